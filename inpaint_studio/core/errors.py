"""Typed errors with one-line, user-facing messages.

Library code raises these and never exits the process: the CLI maps them to exit codes and
the GUI to message boxes, so a bad file can never take unsaved work down with it.
"""

from __future__ import annotations


class InpaintStudioError(Exception):
    """Base of every error a user may see; ``str(error)`` is the message to show."""

    #: process exit code the CLI uses for this kind of error
    exit_code: int = 1


class InvalidInputError(InpaintStudioError):
    """The input (file, mask, parameter) cannot be used as given."""

    exit_code = 2


class MissingFileError(InvalidInputError):
    """A path that does not exist or is a folder: nothing there to open (often a typo in the name)."""


class UnsupportedFormatError(InvalidInputError):
    """A file type or pixel layout we cannot read or write."""


class CorruptFileError(InvalidInputError):
    """A file that claims a supported format but cannot be decoded (truncated, damaged)."""


class EmptyImageError(InvalidInputError):
    """An image with zero width or height."""


class ImageTooLargeError(InvalidInputError):
    """An image above the configured pixel limit (protects the machine's memory)."""


class MaskMismatchError(InvalidInputError):
    """A mask whose size differs from the photo's."""


class EmptyMaskError(InvalidInputError):
    """A mask that selects nothing: there is nothing to fill."""


class FullMaskError(InvalidInputError):
    """A mask that selects everything: no known pixels are left to fill from."""


class InvalidParameterError(InvalidInputError):
    """A method parameter of the wrong type or out of its range."""


class UnknownMethodError(InvalidInputError):
    """A method name that no installed method answers to."""


class SaveError(InpaintStudioError):
    """Writing a file failed; the previous file (if any) is left intact."""


class OverwriteRefusedError(SaveError):
    """Saving would replace an existing file and the caller did not ask for that."""


class DeviceUnavailableError(InpaintStudioError):
    """A compute device that this machine does not have."""


class MethodFailedError(InpaintStudioError):
    """A method raised an unexpected error; the message says which and why."""


class FillCancelled(InpaintStudioError):
    """The user cancelled a running fill; nothing was changed."""


class WeightsError(InpaintStudioError):
    """A network's weights file is missing, cannot be fetched, or does not match the network."""


class WeightsMissingError(WeightsError):
    """A learned method's weights are not installed; the message says how to get them."""


class DownloadCancelled(WeightsError):
    """The user stopped a weights download; the partial file is kept so the next one resumes."""

    exit_code = 130
