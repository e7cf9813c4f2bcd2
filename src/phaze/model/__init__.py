"""The Phaze-A network: encoders, FC models, G-Block, decoders and their assembly."""
