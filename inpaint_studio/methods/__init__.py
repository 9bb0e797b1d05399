"""Inpainting methods: one module per method, one interface, one registry. Never Qt."""

#: the method used when nothing else is asked for, in the editor and on the command line alike:
#: content-aware fill, because the first job is removing an object (the sample's spoon). Always
#: installed, no weights, about 1 s on a Kodak photo. On the Kodak masks its hole-PSNR is Telea's or
#: better (thin equal, object and scratch +0.1 to +0.7 dB) with 2-3x the texture
#: (docs/benchmarks.md); Telea smears an object. Scratch and dust restoration picks its own methods.
DEFAULT_METHOD = "patchmatch"
