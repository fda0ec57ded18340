"""The words the window teaches with: what each model-card measure means and which way is
better, and the Help window's short guided explanation of a latent space.

Plain text and plain functions (no window), so the card, the Help window and the tests
read the same words.
"""

import re

#: Evaluation metric -> (the card's words, a short meaning). Keys are the evaluation's.
METRICS = {
    "recon_stft": ("rebuild error (MR-STFT)", "spectral distance of held-out sounds to their rebuilds"),
    "recon_stft_db": ("rebuild error, log-magnitude", "the same distance on a dB scale"),
    "recon_sc": ("rebuild error, spectral", "spectral convergence of the rebuilds"),
    "recon_snr_db": ("rebuild signal-to-noise", "waveform match of the rebuilds"),
    "frechet": ("Fréchet distance", "how far the model's sounds are, as a crowd, from the real ones"),
    "precision": ("precision", "share of made sounds that lie among real ones (realism)"),
    "recall": ("recall", "share of real sounds the model's sounds reach"),
    "density": ("density", "how crowded real sounds are around made ones"),
    "coverage": ("coverage", "share of real sounds with a made sound close by (spread)"),
    "recognisable": ("recognisable", "share of made sounds a drum classifier names with confidence"),
    "ndb_k": ("NDB/K (empty or crowded bins)", "share of sound-clusters the model over- or under-fills"),
    "diversity": ("diversity", "spread of made sounds against the real spread"),
    "memorisation": ("memorisation", "nearness of made sounds to training ones, against held-out ones"),
    "continuity_mean": ("jump between near points", "mean spectral jump between neighbouring grid points"),
    "continuity_p99": ("largest jumps (99th pct.)", "the worst 1 % of those jumps"),
    "clicks": ("clicks", "share of sounds with a click in them"),
    "noise_floor": ("noise floor", "share of sounds with hiss where they should be silent"),
    "bitcrush": ("bit-crushing", "share of sounds that sound quantised"),
    "decode_ms": ("decode time", "time to make one sound"),
    "realtime_factor": ("speed", "how many times faster than real time"),
    "beyond_full_scale": ("beyond full scale", "share of sounds whose peak passes 1.0 (they clip)"),
    "continuity_max": ("largest jump", "the largest spectral jump between neighbouring points"),
    "mean_sample_sc": ("mean-sound baseline, spectral", "the spectral error of always playing the mean sound"),
    "mean_sample_snr_db": ("mean-sound baseline, SNR", "the signal-to-noise of always playing the mean sound"),
    "mean_sample_stft": ("mean-sound baseline, MR-STFT", "the MR-STFT error of always playing the mean sound"),
    "mean_sample_stft_db": ("mean-sound baseline, log-mag", "its log-magnitude error"),
    "nonfinite": ("broken sounds", "sounds with NaN or infinite samples"),
    "silent": ("silent sounds", "sounds with nothing in them"),
}

#: A training loss or number on the card -> its words.
LOSSES = {
    "loss": "total loss",
    "reconstruction_loss": "rebuild loss",
    "kl_loss": "KL (codes vs the prior)",
    "kl_weight": "KL weight",
    "code_std": "spread of the codes",
    "grid_centroid_octaves": "brightness range on a grid (octaves)",
    "grid_peak": "mean peak on a grid",
    "d_loss": "critic loss",
    "g_loss": "generator loss",
    "gradient_penalty": "gradient penalty",
}


def words_for(key):
    """A card key in words: the glossary's, else its snake_case made into words."""
    if key in METRICS:
        return METRICS[key][0]
    held_out = key.startswith("val_")
    base = key[4:] if held_out else key
    words = LOSSES.get(base) or re.sub(r"_+", " ", base).strip()
    return f"{words}, held out" if held_out else words


#: The pad's tooltip: what it is, what a dot is, why near points sound alike (the Help's tour, short).
PAD_TIP = (
    "The latent pad: every point of this square is a sound the model makes. Click or drag to hear\n"
    "it; the arrow keys nudge the point. A dot is one training sound, where the encoder puts it,\n"
    "in its family's colour. Near points sound alike: the decoder is smooth, so a small step is a\n"
    "small change of sound, and a region is a family of sounds. F1: Help."
)

#: The map's tooltip for each of its modes (gui.state.MAP_MODES).
MAP_TIPS = {
    "codes": (
        "The latent map: a dot is one training sound, placed where the model's encoder puts it,\n"
        "coloured by its family label. Near dots sound alike: the decoder is smooth, so close\n"
        "points make close sounds. Click a dot to hear the model's version, then the original;\n"
        "click between dots to move there."
    ),
    "made": (
        "What is made here: the colour of each field is the family the project's classifier hears\n"
        "in the sound the model makes at that point (the one that names a kit's instruments).\n"
        "A dot is a training sound in its label's colour: a dot on a field of another colour is\n"
        "a sound labelled one family where the model makes another. Click to go there."
    ),
    "heat": (
        "A heat-map over the latent range: each colour is the value of a sound feature at that\n"
        "point, on one scale for every model (the colour bar). Faint dots are the training\n"
        "sounds. Click to move the point there."
    ),
}


def map_tip(mode):
    """The map's tooltip for a mode of the map (a heat-map's is one for all of them)."""
    return MAP_TIPS.get(mode, MAP_TIPS["heat"])


HELP_TITLE = "ML Sample Generator: help"

#: The Help window's text: a guided tour, then the measures, then every key.
HELP_TEXT = """\
What you are looking at

A model here has learnt to squeeze each drum sound into two numbers, a point (x, y), and to
make a sound back from any point. The square pad is that plane: click or drag anywhere and you
hear the sound the model makes there.

A dot on the latent map is one training sound, placed where the model's encoder puts it; its
colour is its family (kick, snare, hat...). Click a dot to hear the model's version, then the
original.

Why near points sound alike: the decoder is a smooth function, so a small step on the pad is a
small change of sound. Sounds the model finds similar end up close together, so a region of
the pad is a family of sounds. Where dots are sparse the model is guessing; where the sound
jumps between neighbours (the discontinuity heat-map) the plane is badly ordered.

The map's "made here" view colours each field by the family the drum classifier hears in what
the model makes there, under the training sounds' dots in their labels' colours: a "hat" dot on
a "cymbal" field is a hat in the data where the model makes something a kit would call a cymbal.

Family pads (keys 1-7): the pad spans that family's region of the plane; 0 is the whole pad.
Vary: each play moves a little from the point (1 = 3 % of the range), so a hit never sounds
twice the same; a synth model (ddsp_vae) also draws new noise from 1 up.

The model card's measures (Evaluation is on sounds no model trained on)

  rebuild error (MR-STFT): how far a held-out sound's rebuild is from it. Lower is better.
  KL: how far the codes are from the prior the pad assumes (VAEs). Lower is smoother,
      too low means the codes carry little.
  Fréchet distance: how far the model's sounds are, as a crowd, from real ones. Lower is better.
  precision: share of made sounds that are realistic. Higher is better.
  coverage: share of real sounds with a made sound close by: spread. Higher is better.
  recall: like coverage with the model's own neighbourhoods. Higher is better.
  density: how crowded real sounds are around made ones. Best near 1.
  NDB/K: share of sound clusters the model over- or under-fills. Lower is better.
  recognisable: share of made sounds a classifier names with confidence. Higher is better.
  diversity: spread of made sounds against the real spread. Best near 1.
  memorisation: made sounds' nearness to training sounds against held-out ones. Near 1 is
      healthy; far below 1 means it copies its training sounds.
  jump between near points (continuity): how much the sound changes per small step. Lower is
      smoother.
  clicks, noise floor, bit-crushing: shares of faulty sounds. Lower is better.
  mean-sound baseline: the score of always playing the average sound; a model should beat it.

Keys

  click / drag on the pad: hear that point      arrows: nudge the point
  space: play      L: loop on/off      Esc: stop everything      S or Ctrl+S: save
  - and =: Vary down and up      [ and ]: previous and next model
  1-7: family pads (1 kick, 2 snare, 3 clap, 4 hat, 5 tom, 6 cymbal, 7 percussion)
  0: all families (the plain pad)      Alt+Left / Alt+Right: back and forward
  Ctrl+O: open a sample      Ctrl+E: export the chosen favourites as a kit
  Ctrl+Tab / Ctrl+Shift+Tab: next and previous tab      F1: this help
  Tab / Shift+Tab: move between buttons and fields; space or Enter presses the focused button
"""
