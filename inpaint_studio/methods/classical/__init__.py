"""Classical (non-learned) methods."""
