"""Inpainting methods: one module per method, one interface, one registry. Never Qt."""
