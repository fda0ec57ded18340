"""The report's sections on families: for each family-conditioned model its union grid, its
control accuracy (asked against read) and its top octave, and one table of every model's family
pads (precision, coverage and control per family)."""

import numpy as np

from constants import DRUM_FAMILIES


def conditioned_lines(records):
    """For each family-conditioned model: its union grid, the control accuracy's confusion
    table and the top octave per family (``evaluation.conditioned``'s details)."""
    lines = []
    for name, record in records.items():
        details = record.get("details") or {}
        if "union" not in details:
            continue
        union = details["union"]
        lines += [
            f"## {name}: one plane per family",
            "",
            f"Its grid is the union of {union['points_per_family']} points on each of the "
            f"{len(union['families'])} families' planes; its columns above are of that union. Continuity is "
            f"measured on the {details.get('continuity_family', 'first')} plane.",
            "",
        ]
        if details.get("control"):
            lines += _control_lines(details["control"])
        lines += _top_octave_lines(details["top_octave"])
    return lines


def family_pad_lines(records, references=None):
    """The family pads of every model that has them (``evaluation.family_pads``): one table
    of the union grid's precision, coverage and control per family across models, then each
    model's confusion table."""
    pads_of = {name: (record.get("details") or {}).get("family_pads") for name, record in records.items()}
    measured = {name: pads for name, pads in pads_of.items() if pads and "reason" not in pads}
    if not measured:
        return []
    without = [f"- {pads['reason']}" for pads in pads_of.values() if pads and "reason" in pads]
    real = ((references or {}).get("real training sounds") or {}).get("metrics") or {}
    lines = [
        "## Family pads: which model separates the families",
        "",
        "A model without a family input has a pad per family: a Gaussian over its training codes of "
        "that family, spanned by its two main axes (the window's and the page's keys 1–7). Each pad is "
        f"measured as a conditioned model's plane is: a {_side(measured)} grid per family, decoded; "
        "precision and coverage are the union's, control is the share of each family's grid that the "
        "reference's classifier reads as that family (– where the model has no training sound of it).",
    ]
    if real.get("precision") is not None:
        lines[-1] += f" The real training sounds score precision {real['precision']:.2f}, coverage {real['coverage']:.2f}."
    lines += [
        "",
        "| model | precision | coverage | " + " | ".join(DRUM_FAMILIES) + " | mean control |",
        "|---|---:|---:|" + "---:|" * (len(DRUM_FAMILIES) + 1),
    ]
    for name, pads in measured.items():
        accuracy = pads["accuracy"]
        cells = [f"{accuracy[f]:.2f}" if f in accuracy else "–" for f in DRUM_FAMILIES]
        lines.append(
            f"| {name} | {_two(pads['precision'])} | {_two(pads['coverage'])} | "
            + " | ".join(cells)
            + f" | {np.mean(list(accuracy.values())):.2f} |"
        )
    lines.append("")
    if without:
        lines += ["No family pads:", ""] + without + [""]
    for name, pads in measured.items():
        lines += [f"### {name}: family pads, asked and read", ""] + _confusion_table(pads["control"]) + [""]
    return lines


def _side(measured):
    side = int(round(next(iter(measured.values()))["points_per_family"] ** 0.5))
    return f"{side} × {side}"


def _two(value):
    return "–" if value is None else f"{value:.2f}"


def _control_lines(confusion):
    return (
        [
            "### Control accuracy",
            "",
            "Each row is a family the model was asked for; each column the share of its grid that the "
            "reference's classifier (fitted on this data's training sounds) reads as that family. "
            "The diagonal is the control accuracy.",
            "",
        ]
        + _confusion_table(confusion)
        + [""]
    )


def _confusion_table(confusion):
    """Asked (rows) against read (columns), the diagonal in bold."""
    families = list(next(iter(confusion.values())))
    lines = ["| asked \\ read | " + " | ".join(families) + " |", "|---|" + "---|" * len(families)]
    for asked, row in confusion.items():
        cells = [f"**{row[f]:.2f}**" if f == asked else f"{row[f]:.2f}" for f in families]
        lines.append(f"| {asked} | " + " | ".join(cells) + " |")
    return lines


def _top_octave_lines(top_octave):
    real = top_octave.get("real") or {}
    lines = [
        "### The top octave",
        "",
        f"Median share of energy above 11.025 kHz at {top_octave['rate']} Hz, per family"
        + (
            ", beside the real held-out sounds' median and interquartile range."
            if real
            else " (the real sounds at this rate were not available)."
        ),
        "",
        "| family | model median | real median | real IQR | within the IQR |",
        "|---|---|---|---|---|",
    ]
    for family, model in top_octave["model"].items():
        truth = real.get(family)
        if truth is None:
            lines.append(f"| {family} | {model['median']:.1%} | – | – | – |")
            continue
        within = "yes" if truth["q25"] <= model["median"] <= truth["q75"] else "no"
        lines.append(
            f"| {family} | {model['median']:.1%} | {truth['median']:.1%} | {truth['q25']:.1%}–{truth['q75']:.1%} | {within} |"
        )
    return lines + [""]
