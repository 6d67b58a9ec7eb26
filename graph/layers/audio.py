"""Audio layers: turn sound waves into spectrograms (strength per frequency over time).

The shapes follow Keras's `compute_output_shape` of MelSpectrogram and
STFTSpectrogram (channels last).
"""

from __future__ import annotations

from graph.layer_type import LayerType, ShapeError
from graph.layers._common import conv_length, fmt, known_last, require_rank, times
from graph.params import Param

WAVES = "(None, 16000) — (batch, samples)"
CHANNEL_WAVES = "(None, 16000, 1) — (batch, samples, channels)"
WINDOWS = ("hann", "hamming")
STFT_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


def _mel_shape(params, inputs):
    shape = inputs[0]
    require_rank(shape, 2, WAVES)
    if params["sequence_length"] is not None and params["sequence_length"] > params["fft_length"]:
        raise ShapeError(
            "sequence_length must not exceed fft_length. Received: "
            f"sequence_length={params['sequence_length']}, fft_length={params['fft_length']}"
        )
    stride = params["sequence_stride"]
    samples = shape[1]
    frames = None if samples is None else (samples + stride + 1) // stride
    return (None, params["num_mel_bins"], frames)


def _mel_from_keras(config: dict) -> dict:
    """Keras records the defaults it fills in; the catalog keeps them empty."""
    config = dict(config)
    if config.get("sequence_length") == config.get("fft_length"):
        config["sequence_length"] = None
    max_freq = config.get("max_freq")
    if max_freq is not None and max_freq == int(config.get("sampling_rate", 16000) / 2):
        config["max_freq"] = None
    return config


def _fft_length(params) -> int:
    """Keras's FFT size: the one given, else the power of two at least frame_length."""
    return params["fft_length"] or 1 << (params["frame_length"] - 1).bit_length()


def _frequencies(params) -> int:
    return _fft_length(params) // 2 + 1


def _stft_check(params):
    frame, step, fft = params["frame_length"], params["frame_step"], params["fft_length"]
    if step is not None and step > frame:
        raise ShapeError(
            f"frame_step must not exceed frame_length. Received: frame_step={step}, "
            f"frame_length={frame}"
        )
    if fft is not None and fft < frame:
        raise ShapeError(
            f"fft_length must be at least frame_length. Received: fft_length={fft}, "
            f"frame_length={frame}"
        )


def _stft_frames(params, shape) -> int | None:
    step = params["frame_step"] or params["frame_length"] // 2
    return conv_length(shape[1], params["frame_length"], step, params["padding"])


def _stft_shape(params, inputs):
    shape = inputs[0]
    require_rank(shape, 3, CHANNEL_WAVES)
    _stft_check(params)
    channels = known_last(shape)
    frequencies = _frequencies(params) * (2 if params["mode"] == "stft" else 1)
    try:
        frames = _stft_frames(params, shape)
    except ShapeError:
        raise ShapeError(
            f"frame_length {params['frame_length']} is longer than the input's "
            f"{shape[1]} samples. Received: input shape {fmt(shape)}"
        ) from None
    if params["expand_dims"]:
        return (None, frames, frequencies, channels)
    return (None, frames, frequencies * channels)


def _kernels(params) -> int:
    """The real and imaginary filter banks; the real and imag modes need one of them."""
    return 1 if params["mode"] in ("real", "imag") else 2


def _stft_count(params, _inputs, _output):
    return _kernels(params) * params["frame_length"] * _frequencies(params)


def _stft_macs(params, inputs, _output):
    shape = inputs[0]
    return times(_stft_frames(params, shape), shape[-1], _stft_count(params, inputs, _output))


def _window() -> Param:
    return Param(
        "window",
        "choice",
        "hann",
        choices=WINDOWS,
        help="How each slice is faded in and out",
        explanation="The curve each slice of sound is multiplied by so its edges do not add "
        "false frequencies. hann is the usual choice.",
    )


LAYERS = (
    LayerType(
        "MelSpectrogram",
        "Preprocessing",
        "Turns a sound wave into a mel spectrogram: the loudness of each pitch band over time.",
        (
            Param(
                "fft_length",
                "int",
                2048,
                minimum=1,
                help="Samples per analysed slice",
                explanation="How many samples each slice of sound has when its frequencies are "
                "measured. Longer slices separate pitches better but blur timing; 512-2048.",
            ),
            Param(
                "sequence_stride",
                "int",
                512,
                minimum=1,
                help="Samples between the starts of two slices",
                explanation="How far the slice moves each step; it sets how many time steps "
                "the spectrogram has. A quarter of fft_length is usual.",
            ),
            Param(
                "sequence_length",
                "int",
                None,
                minimum=1,
                nullable=True,
                help="Samples of sound per slice; empty: fft_length",
                explanation="How many real samples each slice holds, padded to fft_length. "
                "Leave empty to use fft_length.",
            ),
            _window(),
            Param(
                "sampling_rate",
                "int",
                16000,
                minimum=1,
                help="Samples per second of the sound",
                explanation="How many samples make one second of the recordings; it must match "
                "the data (16000 for speech is usual) or the pitch bands are wrong.",
            ),
            Param(
                "num_mel_bins",
                "int",
                128,
                minimum=1,
                help="Number of pitch bands",
                explanation="How many pitch bands the spectrogram has, spaced like human "
                "hearing. 40-128 is usual; more keep finer pitch detail.",
            ),
            Param(
                "min_freq",
                "float",
                20.0,
                minimum=0.0,
                help="Lowest frequency kept, in Hz",
                explanation="The lowest pitch in hertz that the bands cover; 20 Hz is the edge "
                "of hearing.",
            ),
            Param(
                "max_freq",
                "float",
                None,
                minimum=1.0,  # Keras reads 0 as "half the sampling rate", like empty
                nullable=True,
                help="Highest frequency kept, in Hz; empty: half the sampling rate",
                explanation="The highest pitch in hertz that the bands cover. Leave empty for "
                "half the sampling rate, the highest a recording can hold.",
            ),
            Param(
                "power_to_db",
                "bool",
                True,
                help="Give loudness in decibels",
                explanation="Turns power into decibels, a log scale like hearing, which "
                "networks learn from more easily. Keep it on.",
            ),
            Param(
                "top_db",
                "float",
                80.0,
                minimum=0.0,
                help="Quietest level kept, in dB below the loudest",
                explanation="Anything quieter than this many decibels below the loudest sound "
                "is raised to that floor, so silence does not dominate.",
            ),
            Param(
                "mag_exp",
                "float",
                2.0,
                minimum=0.0,
                help="1 for magnitude, 2 for power",
                explanation="The power the strength of each frequency is raised to: 2 gives "
                "power (usual), 1 the plain magnitude.",
            ),
            Param(
                "min_power",
                "float",
                1e-10,
                minimum=0.0,
                help="Smallest power before decibels",
                explanation="A tiny floor on the power so the logarithm of silence stays "
                "finite. Keep the default.",
            ),
            Param(
                "ref_power",
                "float",
                1.0,
                minimum=0.0,
                help="Power counted as 0 dB",
                explanation="The power that counts as 0 decibels; only shifts every value. Keep 1.",
            ),
        ),
        _mel_shape,
        key_params=("num_mel_bins", "fft_length"),
        from_keras=_mel_from_keras,
    ),
    LayerType(
        "STFTSpectrogram",
        "Preprocessing",
        "Turns sound waves into a spectrogram with fixed (not trained) frequency filters.",
        (
            Param(
                "mode",
                "choice",
                "log",
                choices=STFT_MODES,
                help="What each frequency gives: log strength, magnitude, power, parts, angle",
                explanation="log (the log of the strength) suits most networks; magnitude and "
                "psd give strength and power; real, imag, angle and stft the raw parts.",
            ),
            Param(
                "frame_length",
                "int",
                256,
                minimum=1,
                help="Samples per analysed slice",
                explanation="How many samples each slice of sound has. Longer slices separate "
                "frequencies better but blur timing; 256-1024 is usual.",
            ),
            Param(
                "frame_step",
                "int",
                None,
                minimum=1,
                nullable=True,
                help="Samples between slices; empty: half of frame_length",
                explanation="How far the slice moves each step; it sets how many time steps "
                "come out. At most frame_length; empty for half of it.",
            ),
            Param(
                "fft_length",
                "int",
                None,
                minimum=1,
                nullable=True,
                help="Frequencies measured per slice; empty: next power of two",
                explanation="The slice is padded to this many samples before its frequencies "
                "are measured: more gives finer frequency steps. At least frame_length.",
            ),
            _window(),
            Param(
                "periodic",
                "bool",
                False,
                help="Use the periodic form of the window",
                explanation="Uses the window shape meant for slices that repeat; it barely "
                "changes results. Keep it off.",
            ),
            Param(
                "scaling",
                "choice",
                "density",
                choices=("density", "spectrum"),
                help="Scale as power density or as spectrum",
                explanation="density scales the values as power per hertz, spectrum as power "
                "per frequency step; it only changes the scale.",
            ),
            Param(
                "padding",
                "choice",
                "valid",
                choices=("valid", "same"),
                help="Whether the ends are padded",
            ),
            Param(
                "expand_dims",
                "bool",
                False,
                help="Keep channels on their own axis, like an image",
                explanation="Gives (time, frequency, channels), an image a Conv2D can read, "
                "instead of all channels side by side.",
            ),
        ),
        _stft_shape,
        _stft_count,
        key_params=("mode", "frame_length"),
        count_macs=_stft_macs,
    ),
)
