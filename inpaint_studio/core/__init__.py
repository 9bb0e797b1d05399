"""The document and its files: pure numpy/OpenCV/Pillow, never Qt, never torch."""
