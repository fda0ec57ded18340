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
