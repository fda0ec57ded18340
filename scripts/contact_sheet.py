"""Render a 5x5 grid over each model's latent range to WAVs and a contact sheet PNG.

    .venv/bin/python scripts/contact_sheet.py [--models trained] [-o out/listen] [NAME ...]

For each model: OUT/NAME/x{X}_y{Y}.wav (float WAV at the model rate) and OUT/NAME.png,
a 5x5 sheet whose cells hold the log spectrogram (0-11 kHz) with the waveform drawn over
it, rows from the top of the latent range down, so a look tells clicks, noise tails,
ringing and how much the sound changes across the plane. Outputs are not committed.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def grid_points(latent_range, n=5):
    xmin, xmax, ymin, ymax = latent_range
    xs = np.linspace(xmin, xmax, n)
    ys = np.linspace(ymax, ymin, n)  # top row = largest y, as on the latent pad
    return np.array([[x, y] for y in ys for x in xs], dtype=np.float32)


def sheet(name, points, audio, sample_rate, n=5):
    from matplotlib.figure import Figure
    from scipy.signal import stft

    fig = Figure(figsize=(n * 2.4, n * 1.7), dpi=90)
    axes = fig.subplots(n, n, sharex=True, sharey=True)
    for ax, point, y in zip(axes.flat, points, audio):
        _, _, spec = stft(y, fs=sample_rate, nperseg=512, noverlap=384)
        db = 20 * np.log10(np.abs(spec) + 1e-6)
        seconds = len(y) / sample_rate
        ax.imshow(db, origin="lower", aspect="auto", cmap="magma", vmin=-100, vmax=-10, extent=(0, seconds, 0, sample_rate / 2000))
        peak = max(float(np.max(np.abs(y))), 1e-9)
        ax.plot(np.linspace(0, seconds, len(y)), 5.5 + 5 * y / peak, color="cyan", lw=0.3)
        ax.set_title(f"({point[0]:+.2f}, {point[1]:+.2f}) pk {peak:.2f}", fontsize=7)
        ax.tick_params(labelsize=6)
    fig.suptitle(f"{name}: 5x5 over the latent range (spectrogram 0-11 kHz, waveform in cyan)")
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--models", default="trained")
    parser.add_argument("-o", "--out", default="out/listen")
    args = parser.parse_args(argv)

    import soundfile as sf

    from models.errors import ModelUnavailableError
    from models.keras_loader import load_trained
    from models.registry import MODEL_NAMES

    out = Path(args.out)
    for name in args.names or MODEL_NAMES:
        try:
            model = load_trained(name, args.models)
        except ModelUnavailableError as error:
            print(f"{name}: skipped ({error})")
            continue
        points = grid_points(model.latent_range())
        audio = model.decode(points)
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for point, y in zip(points, audio):
            sf.write(folder / f"x{point[0]:+.2f}_y{point[1]:+.2f}.wav", y, model.sample_rate, subtype="FLOAT")
        sheet(name, points, audio, model.sample_rate).savefig(out / f"{name}.png")
        peaks = np.max(np.abs(audio), axis=1)
        finite = bool(np.all(np.isfinite(audio)))
        print(f"{name}: peak min {peaks.min():.3f} max {peaks.max():.3f}, finite {finite}, sheet {out / (name + '.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
