"""Image files, array ↔ tensor conversion and device choice: written once, used everywhere."""
