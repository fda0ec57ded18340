"""Can ddsp_cvae's synthesiser play a clap? Fit it to every real clap and one sound per family.

    .venv/bin/python scripts/fit_synth.py --data data/kits -o out/synth_fit [--steps 400]

Issue 30 §2, "claps first". The sounds come from a preprocessed dataset's manifest (its
families and source paths); each source is prepared again at ddsp_cvae's rate and length
(44.1 kHz, 32768 samples, the peak at 10 ms) with preprocessing's own functions, since the
dataset itself is at 22,050 Hz. :func:`evaluation.synth_fit.fit_synth` then fits the
synthesiser's parameters to each sound by gradient descent: every clap, and one sound per
other family (the family's medoid among its training sounds: the one with the smallest
median distance to the others).

Written to the output folder (never into the repository):

- ``fits.csv``: per sound, its family, file, the MR-STFT of the fit to it, the distance to
  its nearest other real sound of the family, the family's pairwise spread, and the
  fitted parameters played with three other noise realisations: their distance to the
  target (do the parameters, not the noise, hold the sound?) and to the fit itself (the
  floor a synthesiser with fixed noise can reach); the MR-STFT of the fit with its gains
  smoothed over 20 ms in the first 100 ms (no bursts left), and the correlation of the fit's
  and the smoothed fit's 1 ms envelopes with the target's over 50 ms from the attack (trend
  removed): how much the measures hear a clap's bursts;
- ``summary.txt``: the same per family, as the report reads it;
- ``claps.png``, ``families.png``: waveform and spectrogram, fitted beside real;
- ``spread.png``: per family, the real pairwise spread, the fits and their parameters with other noise;
- ``loss.png``: the loss of every fit over its steps;
- ``fits.npz``: targets, fitted audio and raw parameters, for listening.
"""

import argparse
import csv
import io
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: The spread of a family other than clap is measured on this many of its sounds (seeded),
#: to bound the pairwise work (150 cymbals are 22,350 pairs).
SPREAD_SOUNDS = 40


def load_family(dataset, family, settings, limit=None, seed=0):
    """(audio (N, L), file names, in-training flags) of the dataset's sounds of ``family``,
    each prepared again from its source at ``settings``; at most ``limit`` of them, drawn
    with a seeded generator."""
    from preprocessing.errors import AudioInputError
    from preprocessing.reader import prepare_file

    chosen = np.flatnonzero(dataset.families == family)
    if limit is not None and len(chosen) > limit:
        chosen = np.sort(np.random.default_rng(seed).choice(chosen, limit, replace=False))
    audio, names, training = [], [], []
    for i in chosen:
        try:
            audio.append(prepare_file(dataset.sources[i], settings))
        except (AudioInputError, OSError) as error:
            print(f"{dataset.sources[i]}: left out ({error})", flush=True)
            continue
        names.append(str(dataset.files[i]))
        training.append(not dataset.is_validation[i])
    return np.stack(audio), names, training


def medoid(distances, candidates):
    """The index among ``candidates`` with the smallest median distance to the others."""
    scores = [np.nanmedian(np.concatenate([distances[i], distances[:, i]])) for i in candidates]
    return int(candidates[int(np.argmin(scores))])


def envelope_db(sound, sample_rate, window_seconds=0.001):
    """RMS over ``window_seconds`` windows in dB re full scale (floored at -80), (frames,)."""
    size = max(1, round(window_seconds * sample_rate))
    frames = sound[: len(sound) // size * size].reshape(-1, size)
    return 20 * np.log10(np.maximum(np.sqrt(np.mean(frames**2, axis=1)), 1e-4))


def figure(rows, sample_rate, title):
    """A matplotlib Figure: per sound, the real and the fitted waveform, their 1 ms
    envelopes over the first 80 ms (where a clap's bursts are), and their spectrograms."""
    from matplotlib.figure import Figure

    from evaluation.synth_fit import spectrogram_db

    fig = Figure(figsize=(19, 2.3 * len(rows)), layout="constrained")
    axes = fig.subplots(len(rows), 5, squeeze=False)
    for (label, real, fitted, distance), row in zip(rows, axes):
        for column, (what, sound, colour) in enumerate((("real", real, "k"), ("fit", fitted, "tab:red"))):
            t = np.arange(len(sound)) / sample_rate * 1000
            wave = row[column]
            wave.plot(t, sound, lw=0.4, color=colour)
            wave.set_xlim(0, 350)
            wave.set_ylim(-1, 1)
            wave.set_title(f"{label}: {what}" + (f" (MR-STFT {distance:.3f})" if what == "fit" else ""), fontsize=8)
            wave.set_xlabel("ms", fontsize=7)
            envelope = envelope_db(sound, sample_rate)
            row[2].plot(np.arange(len(envelope)) + 0.5, envelope, color=colour, lw=0.9, label=what)
            db = spectrogram_db(sound)
            spec = row[3 + column]
            spec.imshow(
                db.T,
                origin="lower",
                aspect="auto",
                vmin=-80,
                vmax=0,
                cmap="magma",
                extent=(0, len(sound) / sample_rate * 1000, 0, sample_rate / 2000),
            )
            spec.set_xlim(0, 350)
            spec.set_title(f"{what}: dB, kHz over ms", fontsize=8)
        row[2].set_xlim(0, 80)
        row[2].set_ylim(-70, 0)
        row[2].set_title("1 ms RMS envelope, dB, first 80 ms", fontsize=8)
        row[2].legend(fontsize=6)
    fig.suptitle(title)
    return fig


def loss_figure(histories, labels):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    for history, label in zip(histories, labels):
        ax.semilogy(history, lw=0.8, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (floored MR-STFT, 7 sizes)")
    ax.legend(fontsize=6, ncol=3)
    return fig


def spread_figure(pairs, fits, other_noise):
    """Per family: the real sounds' pairwise MR-STFT (a box), the fits (red dots) and the
    fitted parameters played with other noise realisations (grey crosses), each to its target."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    names = list(pairs)
    ax.boxplot([pairs[f] for f in names], whis=(5, 95), showfliers=False)
    for x, family in enumerate(names, start=1):
        jitter = np.linspace(-0.15, 0.15, len(fits[family])) if len(fits[family]) > 1 else [0.0]
        ax.plot(x + np.asarray(jitter), fits[family], "o", color="tab:red", ms=4, label="fit to its target" if x == 1 else None)
        ax.plot(
            x + np.asarray(jitter),
            other_noise[family],
            "x",
            color="0.4",
            ms=4,
            label="the fit's parameters with other noise" if x == 1 else None,
        )
    ax.set_xticks(range(1, len(names) + 1), names)
    ax.set_yscale("log")
    ax.set_ylabel("MR-STFT (report's recon distance)")
    ax.set_title("fits against the real sounds' pairwise spread (box: IQR, whiskers 5-95 %)", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def save_figure(fig, path):
    from safeio import atomic_write_bytes

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    atomic_write_bytes(path, buffer.getvalue())


def main(argv=None):
    from constants import ATTACK_SECONDS, DRUM_FAMILIES, HIRES_SAMPLE_LENGTH, HIRES_SAMPLE_RATE
    from evaluation.synth_fit import burst_correlation, fit_distance, other_noise_distances, pairwise_distances, spread
    from models.registry import get_spec
    from models.synth_fit import fit_synth, make_synth, render_with_noise, smooth_noise_gains
    from preprocessing.dataset import load_dataset
    from preprocessing.settings import PreprocessSettings
    from safeio import atomic_write_bytes, atomic_write_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a preprocessed dataset (its manifest names the sources)")
    parser.add_argument("-o", "--out", required=True, help="a folder outside the repository")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--families", default=",".join(DRUM_FAMILIES), help="clap fits every clap; each other family its medoid")
    parser.add_argument("--batch", type=int, default=8, help="sounds fitted together (independent fits)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset(args.data)
    settings = PreprocessSettings(sample_rate=HIRES_SAMPLE_RATE, length=HIRES_SAMPLE_LENGTH, attack_seconds=ATTACK_SECONDS)
    spec = get_spec("ddsp_cvae").settings()
    synth = make_synth(HIRES_SAMPLE_RATE, HIRES_SAMPLE_LENGTH, settings.attack_samples, spec["noise_seed"])

    targets, labels, families, nearest, spreads, pairs = [], [], [], [], {}, {}
    for family in args.families.split(","):
        limit = None if family == "clap" else SPREAD_SOUNDS
        audio, names, training = load_family(dataset, family, settings, limit=limit)
        distances = pairwise_distances(audio)
        spreads[family] = {**spread(distances), "sounds": len(audio)}
        pairs[family] = distances[np.isfinite(distances)]
        # a sound's nearest other real sound, in either role (reference or estimate)
        closest = np.fmin(np.nanmin(distances, axis=0), np.nanmin(distances, axis=1))
        if family == "clap":
            chosen = range(len(audio))
        else:
            train = np.array([i for i, t in enumerate(training) if t] or list(range(len(audio))))
            chosen = [medoid(distances, train)]
        for i in chosen:
            targets.append(audio[i])
            labels.append(names[i])
            families.append(family)
            nearest.append(float(closest[i]))
        print(
            f"{family}: {len(audio)} real sounds, pairwise MR-STFT median {spreads[family]['median']:.3f} "
            f"(IQR {spreads[family]['q1']:.3f}-{spreads[family]['q3']:.3f})",
            flush=True,
        )
    targets = np.stack(targets)

    started = time.time()
    fits = []
    for begin in range(0, len(targets), args.batch):
        fits.append(fit_synth(targets[begin : begin + args.batch], synth, steps=args.steps, learning_rate=args.learning_rate))
        print(f"fitted {min(begin + args.batch, len(targets))}/{len(targets)} ({time.time() - started:.0f} s)", flush=True)
    audio = np.concatenate([f.audio for f in fits])
    raw = np.concatenate([f.raw for f in fits])
    history = np.concatenate([f.history for f in fits], axis=1)
    faded = np.concatenate([f.target for f in fits])
    distance = fit_distance(faded, audio)
    others = [render_with_noise(raw, synth, variation) for variation in (1, 2, 3)]
    other_to_target, floor = other_noise_distances(faded, audio, others)
    # the same fits without their bursts: how much do the measures hear the bursts?
    smoothed = render_with_noise(smooth_noise_gains(raw, synth), synth, None)
    smoothed_distance = fit_distance(faded, smoothed)
    bursts = burst_correlation(faded, audio, synth.sample_rate, synth.attack)
    bursts_smoothed = burst_correlation(faded, smoothed, synth.sample_rate, synth.attack)

    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(
        [
            "family",
            "sound",
            "fit_mrstft",
            "nearest_real_mrstft",
            "family_median",
            "family_q1",
            "family_q3",
            "other_noise_to_target",
            "other_noise_to_fit",
            "bursts_smoothed_mrstft",
            "burst_correlation",
            "burst_correlation_smoothed",
            "loss_start",
            "loss_end",
        ]
    )
    for i in range(len(targets)):
        s = spreads[families[i]]
        writer.writerow(
            [
                families[i],
                labels[i],
                f"{distance[i]:.4f}",
                f"{nearest[i]:.4f}",
                f"{s['median']:.4f}",
                f"{s['q1']:.4f}",
                f"{s['q3']:.4f}",
                f"{other_to_target[i]:.4f}",
                f"{floor[i]:.4f}",
                f"{smoothed_distance[i]:.4f}",
                f"{bursts[i]:.3f}",
                f"{bursts_smoothed[i]:.3f}",
                f"{history[0, i]:.4f}",
                f"{history[-1, i]:.4f}",
            ]
        )
    atomic_write_text(out / "fits.csv", table.getvalue())
    lines = [
        f"steps {args.steps}, learning rate {args.learning_rate}, {time.time() - started:.0f} s of fitting",
        "family   fits  fit MR-STFT (median, max)  real pairwise median (IQR)   fits below the real q1"
        "  other noise: to target, to fit (medians)  bursts smoothed  burst correlation: fit, smoothed",
    ]
    for family in spreads:
        mine = distance[np.array(families) == family]
        s = spreads[family]
        lines.append(
            f"{family:9s}{len(mine):4d}  {np.median(mine):8.3f} {mine.max():8.3f}        "
            f"{s['median']:.3f} ({s['q1']:.3f}-{s['q3']:.3f}, {s['sounds']} sounds)   "
            f"{int(np.sum(mine < s['q1']))}/{len(mine)}   "
            f"{np.median(other_to_target[np.array(families) == family]):.3f} "
            f"{np.median(floor[np.array(families) == family]):.3f}   "
            f"{np.median(smoothed_distance[np.array(families) == family]):.3f}   "
            f"{np.median(bursts[np.array(families) == family]):.2f} "
            f"{np.median(bursts_smoothed[np.array(families) == family]):.2f}"
        )
    atomic_write_text(out / "summary.txt", "\n".join(lines) + "\n")
    print("\n".join(lines))

    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        targets=targets,
        audio=audio,
        raw=raw,
        history=history,
        labels=np.array(labels),
        families=np.array(families),
        distance=distance,
        other_noise_to_target=other_to_target,
        other_noise_to_fit=floor,
    )
    atomic_write_bytes(out / "fits.npz", buffer.getvalue())
    rate = HIRES_SAMPLE_RATE
    clap = [i for i, f in enumerate(families) if f == "clap"]
    if clap:
        order = sorted(clap, key=lambda i: distance[i])
        shown = [order[0], order[len(order) // 2], order[-1]]  # best, median, worst
        save_figure(
            figure(
                [(f"clap {labels[i][:40]}", targets[i], audio[i], distance[i]) for i in shown],
                rate,
                "claps: best, median and worst fit",
            ),
            out / "claps.png",
        )
    others = [i for i, f in enumerate(families) if f != "clap"]
    if others:
        save_figure(
            figure(
                [(f"{families[i]} {labels[i][:34]}", targets[i], audio[i], distance[i]) for i in others], rate, "one sound per family"
            ),
            out / "families.png",
        )
    chosen_families = np.array(families)
    save_figure(
        spread_figure(
            pairs, {f: distance[chosen_families == f] for f in pairs}, {f: other_to_target[chosen_families == f] for f in pairs}
        ),
        out / "spread.png",
    )
    save_figure(loss_figure(history.T, [f"{f} {i}" for i, f in enumerate(families)]), out / "loss.png")


if __name__ == "__main__":
    main()
