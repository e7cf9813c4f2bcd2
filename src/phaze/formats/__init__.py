"""File formats of other tools and of face sets: read safely, never by running their contents."""
