"""Values the whole project shares, each written once: a leaf module that imports nothing
of the project, so every package may import it without making an import circle.

Dataclass defaults and argparse help (``%(default)s``) read from here.
"""

#: The rate preprocessing writes and the seed's models are trained at, in Hz.
SAMPLE_RATE = 22050

#: Samples in one sound: 0.74 s at :data:`SAMPLE_RATE` (WaveGAN's window: five stride-4
#: layers take it to 16 steps).
SAMPLE_LENGTH = 16384

#: Where preprocessing puts each sound's absolute peak, in seconds from its start.
ATTACK_SECONDS = 0.01

#: The seven drum families a conditioned model is asked for (ddsp_cvae's family input, in
#: this order), and that the evaluation's classifier tells apart.
DRUM_FAMILIES = ("kick", "snare", "clap", "hat", "tom", "cymbal", "percussion")

#: The CD's rate, in Hz: what a saved WAV and a kit's samples are written at by default
#: (every DAW and sampler reads it).
CD_SAMPLE_RATE = 44100

#: ddsp_cvae's data: 44.1 kHz, the full audio band, and the same 0.74 s.
HIRES_SAMPLE_RATE = CD_SAMPLE_RATE
HIRES_SAMPLE_LENGTH = 32768

#: The sample rates a user may ask for, in Hz: telephone quality to twice a studio's 96 kHz.
#: A rate is memory and disk: 2 GHz made a 5.9 GB WAV out of one drum hit.
MIN_RATE, MAX_RATE = 8000, 192000

#: Level under which no difference is heard, in dB re full scale: the evaluation's
#: spectrograms are floored here and the ``"spectral_floored"`` loss counts everything
#: under it as the same silence.
FLOOR_DB = -80.0

#: What libsndfile reads, by file name: preprocessing takes these as sources (other files
#: are listed in the manifest as skipped) and ``play`` takes a NAME with one of them as a
#: file, even one that is missing (so it says "no such file", not "unknown model").
AUDIO_SUFFIXES = (
    ".wav",
    ".wave",
    ".flac",
    ".aif",
    ".aiff",
    ".aifc",
    ".ogg",
    ".oga",
    ".opus",
    ".mp3",
    ".au",
    ".snd",
    ".w64",
    ".caf",
    ".rf64",
    ".bwf",
)

#: The longest source a drum one-shot may be, in seconds: preprocessing refuses a longer
#: source and ``kit --favourites`` a longer favourite (a loop or a song, not a hit).
MAX_ONE_SHOT_SECONDS = 30.0

#: Hydrogen's drum-kit archive (a gzipped tar of one kit folder).
KIT_SUFFIX = ".h2drumkit"
#: How long a sound a synthesiser that renders any length (ddsp_cvae) may be asked for, in
#: seconds: a cymbal's natural decay takes 3.
MIN_RENDER_SECONDS, MAX_RENDER_SECONDS = 0.05, 6.0

#: The latent space of every model is a plane, so the GUI can show it as a map.
LATENT_DIM = 2

#: The GAN's latent prior is uniform on [-GAN_PRIOR_BOUND, GAN_PRIOR_BOUND] per axis (as
#: WaveGAN's uniform [-1, 1]^100), so that square is also its map.
GAN_PRIOR_BOUND = 1.0

#: Reconstruction losses of the AEs and VAEs (defined in :mod:`models.losses`).
LOSSES = ("spectral", "spectral_floored", "mse")
DEFAULT_LOSS = "spectral_floored"

#: Family pads (:mod:`models.family_pads`): the pad of a chosen family spans its Gaussian's
#: mean +- FAMILY_PAD_SCALE standard deviations along its two main axes, one scale for every
#: model. The figures behind 1.0 are in :mod:`models.family_pads`.
FAMILY_PAD_SCALE = 1.0
#: How many codes' worth of the pooled covariance a family's covariance is blended with:
#: its own weight is (n - 1) / (n - 1 + FAMILY_SHRINK_COUNT) for n training sounds.
FAMILY_SHRINK_COUNT = 10
#: ddsp_cvae's code width D (issue 30 §2, stage 1: the sweep of 2, 4, 8 and 16 in
#: docs/models.md chose it); its pad is each family's two main axes.
SYNTH_CODE_DIM = 16
