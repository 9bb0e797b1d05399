"""Which network weights the app knows, where their authors publish them, and under what licence.

Facts only as stated by the authors (repository README / LICENSE, read for ``../shared/model_specs``);
nothing here is guessed. Google-Drive links cannot be fetched by a plain HTTP client (confirmation
pages, quotas), so such entries carry ``page_url`` and ``direct_url=None``: the UI then says "download
it in your browser, then import it". ``sha256=None`` means the authors publish no hash; the first file
that passes verification has its hash recorded (see :mod:`inpaint_studio.runtime.weights`).
"""

from __future__ import annotations

from dataclasses import dataclass

from inpaint_studio.core.errors import WeightsError

__all__ = ["CATALOGUE", "WeightsEntry", "WeightsPart", "entry", "names"]


@dataclass(frozen=True)
class WeightsPart:
    """One file of a model's weights (most models have one; CSA has two, one per stage)."""

    #: name of the file inside the weights folder (the authors' own name where they give one)
    file_name: str
    #: key of the dict inside the file that holds the tensors (None: the file is the state_dict)
    container_key: str | None = None
    #: prefix the file puts in front of the network's own keys (LaMa: "generator.")
    key_prefix: str = ""
    #: prefix of this part's keys inside the network built by ``learned.build`` (CSA: "netP.")
    module_prefix: str = ""
    #: keys of the network that old files may lack (filled with zeros: BatchNorm's counters)
    optional_suffixes: tuple[str, ...] = ()
    #: a file inside a downloaded .zip that holds this part (LaMa ships big-lama.zip)
    archive_member: str | None = None
    #: bytes, when the authors state it (None: unknown)
    expected_size: int | None = None
    #: hex SHA-256, when the authors publish it (None: recorded on first verified install)
    sha256: str | None = None


@dataclass(frozen=True)
class WeightsEntry:
    """A downloadable (or importable) set of weights for one network."""

    #: catalogue id, used by ``inpaint-studio models download NAME`` and by ``Method.weights``
    name: str
    #: spec name for ``inpaint_studio.methods.learned.build``
    network: str
    label: str
    paper: str
    #: the licence as the authors state it (code and, where different, weights)
    licence: str
    #: True: non-commercial only; False: commercial use allowed; None: unknown, check before commercial use
    non_commercial: bool | None
    #: the authors' page for the weights (always set; where a browser can get them)
    page_url: str
    #: a URL a plain HTTP client can download (None: browser only, then import)
    direct_url: str | None
    parts: tuple[WeightsPart, ...]
    #: one line shown next to the licence (limitations, which release to pick)
    note: str = ""

    @property
    def downloadable(self) -> bool:
        return self.direct_url is not None

    @property
    def licence_flag(self) -> str:
        """Short flag for lists: commercial ok / NON-COMMERCIAL / unknown, check before commercial use."""
        if self.non_commercial is None:
            return "unknown, check before commercial use"
        return "NON-COMMERCIAL" if self.non_commercial else "commercial ok"


_DRIVE_NOTE = "Google Drive: download it in your browser, then import it"

CATALOGUE: dict[str, WeightsEntry] = {e.name: e for e in (
    WeightsEntry(
        name="lama", network="lama_big", label="LaMa (big-lama)",
        paper="Suvorov et al., Resolution-robust Large Mask Inpainting with Fourier Convolutions, WACV 2022",
        licence="Apache-2.0 (advimman/lama LICENSE)", non_commercial=False,
        page_url="https://github.com/advimman/lama",
        direct_url="https://huggingface.co/smartywu/big-lama/resolve/main/big-lama.zip",
        parts=(WeightsPart("big-lama.ckpt", container_key="state_dict", key_prefix="generator.",
                           archive_member="big-lama/models/best.ckpt"),),
        note="the download is big-lama.zip; its models/best.ckpt is kept (a Lightning checkpoint)"),
    WeightsEntry(
        name="migan_256", network="migan_256", label="MI-GAN 256 (Places2)",
        paper="Sargsyan et al., MI-GAN: A Simple Baseline for Image Inpainting on Mobile Devices, ICCV 2023",
        licence="MIT (Picsart-AI-Research/MI-GAN LICENSE)", non_commercial=False,
        page_url="https://drive.google.com/drive/folders/1xNtvN2lto0p5yFKOEEg9RioMjGrYM74w?usp=share_link",
        direct_url=None, parts=(WeightsPart("migan_256_places2.pt"),), note=_DRIVE_NOTE),
    WeightsEntry(
        name="migan_512", network="migan_512", label="MI-GAN 512 (Places2)",
        paper="Sargsyan et al., MI-GAN: A Simple Baseline for Image Inpainting on Mobile Devices, ICCV 2023",
        licence="MIT (Picsart-AI-Research/MI-GAN LICENSE)", non_commercial=False,
        page_url="https://drive.google.com/drive/folders/1xNtvN2lto0p5yFKOEEg9RioMjGrYM74w?usp=share_link",
        direct_url=None, parts=(WeightsPart("migan_512_places2.pt"),), note=_DRIVE_NOTE),
    WeightsEntry(
        name="deepfill_v2", network="deepfill_v2", label="DeepFill v2 (Places2, converted TF weights)",
        paper="Yu et al., Free-Form Image Inpainting with Gated Convolution, ICCV 2019",
        licence=("not stated by the converter (nipponjo/deepfillv2-pytorch has no LICENSE); the original "
                 "TF release JiahuiYu/generative_inpainting shows a CC BY-NC badge in its README, "
                 "so treat the weights as non-commercial"),
        non_commercial=True,
        page_url="https://drive.google.com/u/0/uc?id=1tvdQRmkphJK7FYveNAKSMWC6K09hJoyt&export=download",
        direct_url=None, parts=(WeightsPart("states_tf_places2.pth", container_key="G"),),
        note=_DRIVE_NOTE + " (states_tf_places2.pth, for networks_tf.py)"),
    WeightsEntry(
        name="pconv", network="pconv_unet", label="Partial-convolution U-Net",
        paper="Liu et al., Image Inpainting for Irregular Holes Using Partial Convolutions, ECCV 2018",
        licence="MIT (naoto0804/pytorch-inpainting-with-partial-conv LICENSE)", non_commercial=False,
        page_url="https://github.com/naoto0804/pytorch-inpainting-with-partial-conv/releases/tag/v0.0.0",
        direct_url=None, parts=(WeightsPart("pconv_unet.pth", container_key="model"),),
        note="the release asset's file name is not stated; the author writes \"I don't ensure the quality\""),
    WeightsEntry(
        name="shiftnet", network="shiftnet", label="Shift-Net (Paris StreetView, random masks)",
        paper="Yan et al., Shift-Net: Image Inpainting via Deep Feature Rearrangement, ECCV 2018",
        licence="MIT for the code (Zhaoyi-Yan/Shift-Net_pytorch); the weights' licence is not stated",
        non_commercial=None,
        page_url="https://drive.google.com/open?id=14MzixaqYUdJNL5xGdVhSKI9jOfvGdr3M",
        direct_url=None, parts=(WeightsPart("paris_random_mask_20_30.pth"),),
        note=_DRIVE_NOTE + "; 256x256 only, trained on street facades"),
    WeightsEntry(
        name="csa", network="csa", label="CSA (coherent semantic attention)",
        paper="Liu et al., Coherent Semantic Attention for Image Inpainting, ICCV 2019",
        licence=("CC BY-NC 4.0 (KumapowerLIU/CSA-inpainting README: \"for educational and academic "
                 "research purpose only\")"),
        non_commercial=True,
        page_url="https://github.com/KumapowerLIU/CSA-inpainting",
        direct_url=None,
        parts=(WeightsPart("csa_net_P.pth", module_prefix="netP."),
               WeightsPart("csa_net_G.pth", module_prefix="netG.")),
        note=("the authors publish no weights: bring your own <epoch>_net_P.pth and <epoch>_net_G.pth "
              "and import both")),
)}


def names() -> list[str]:
    return list(CATALOGUE)


def entry(name: str) -> WeightsEntry:
    """The catalogue entry ``name``; WeightsError listing the known names otherwise."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise WeightsError(f"unknown weights '{name}' (known: {', '.join(CATALOGUE)})") from None
