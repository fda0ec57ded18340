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

#: ddsp_cvae's data: 44.1 kHz, the full audio band, and the same 0.74 s.
HIRES_SAMPLE_RATE = 44100
HIRES_SAMPLE_LENGTH = 32768
