"""The model card as the window reads and shows it.

:func:`card_table` lays a model's card (a :class:`models.card.ModelCard`, validated when the
model was made, never read by guessing keys) and the evaluation's metrics out as a readable
table, with units and which way is better.
Plain functions: no window, no TensorFlow.
"""

from gui.glossary import words_for
from models.trained_folder import COLLAPSED_WARNING, is_collapsed

LABEL_WIDTH = 16
LOSS_WIDTH = 38  # loss names are longer
#: Units of the evaluation's metrics, by the end of their key.
UNITS = (
    ("_db", "dB"),
    ("_ms", "ms"),
    ("realtime_factor", "× real time"),
    ("continuity_mean", "dB"),
    ("continuity_p99", "dB"),
    ("continuity_max", "dB"),
)
BETTER = {"lower": "lower is better", "higher": "higher is better", "one": "best near 1"}


def _value(value, digits=4):
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "-"}[value]
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}g}" if abs(value) < 1e5 else f"{value:,.0f}"
    return str(value)


def _row(label, text, width=LABEL_WIDTH):
    return f"  {label:<{width}}{text}"


def _unit(key):
    return next((unit for end, unit in UNITS if key.endswith(end)), "")


def _metric_columns():
    """The evaluation report's columns (title, direction), or None without that package."""
    try:
        from evaluation.report import COLUMNS
    except ImportError:
        return None
    return {column.key: column for column in COLUMNS}


def metrics_rows(metrics):
    """The evaluation's metrics as table rows: title, value with its unit, which way is better."""
    columns = _metric_columns() or {}
    keys = [key for key in columns if key in metrics] + sorted(key for key in metrics if key not in columns)
    rows = [f"  {'measure (F1: what each means)':<30}{'value':>18}  better"]
    for key in keys:
        if key not in columns and keys.index(key) == len([c for c in columns if c in metrics]):
            rows.append("  not ranked (the mean training sample is the baseline):")
        column = columns.get(key)
        title = words_for(key)  # words, not the evaluation's keys; the unit goes with the value
        unit = _unit(key)
        value = _value(metrics[key], 4) + (f" {unit}" if unit and metrics[key] is not None else "")
        better = BETTER[column.better] if column else ""
        rows.append(f"  {title:<30}{value:>18}  {better}".rstrip())
    return rows


def card_table(info):
    """The model card of a loaded model as lines of a table.

    Parameters
    ----------
    info : gui.state.ModelInfo or None

    Returns
    -------
    str
    """
    if info is None:
        return "No model loaded yet."
    card = info.card
    lines = [f"{info.name}  ({info.kind})" + (f": {card.summary}" if card.summary else ""), ""]
    if is_collapsed(info.codes):
        lines[1:1] = [f"⚠ {COLLAPSED_WARNING}"]
    lines += _model_rows(info)
    lines += _data_rows(card)
    lines += _training_rows(card)
    lines += _loss_rows(card)
    if info.metrics:
        when = f", {info.metrics_date.replace('T', ' ')[:16]}" if info.metrics_date else ""
        lines += ["", f"Evaluation (held-out sounds{when})"]
        lines += metrics_rows(info.metrics)
    return "\n".join(lines)


def _model_rows(info):
    """The sound it makes, its latent range and prior, its encoder and size."""
    card = info.card
    seconds = info.sample_length / info.sample_rate
    rows = [
        _row("sound", f"{info.sample_rate:,} Hz, {info.sample_length:,} samples ({seconds:.2f} s)"),
        _row("latent range", "x {:.3g} to {:.3g}, y {:.3g} to {:.3g}".format(*info.latent_range)),
    ]
    prior = card.latent.get("prior")
    if prior:
        rows.append(_row("prior", f"{prior} (mean {_value(card.latent.get('mean'))}, std {_value(card.latent.get('std'))})"))
    if info.no_encoder_reason:
        rows.append(_row("encoder", f"damaged: {info.no_encoder_reason}"))
    else:
        rows.append(_row("encoder", "yes" if info.has_encoder else "no (its map is a heat-map)"))
    if info.no_codes_reason:
        rows.append(_row("training codes", f"damaged: {info.no_codes_reason}"))
    if card.parameters is not None:
        rows.append(_row("parameters", _value(card.parameters)))
    return rows


def _data_rows(card):
    """What it was trained on: how many sounds, where, of which families, how prepared."""
    rows = []
    data = card.data
    if data:
        counts = ", ".join(
            f"{_value(data[key])} {label}"
            for key, label in (("train_samples", "training"), ("validation_samples", "validation"))
            if data.get(key) is not None
        )
        samples = data.get("samples", data.get("count"))
        text = f"{_value(samples)} sounds" + (f" ({counts})" if counts else "") if samples is not None else counts
        rows.append(_row("data", text or "-"))
        if card.data_folder:
            rows.append(_row("data folder", card.data_folder))
        if data.get("families"):
            rows.append(_row("families", ", ".join(f"{name} {count}" for name, count in data["families"].items())))
    settings = card.preprocessing
    if settings:
        rows.append(
            _row(
                "preprocessing",
                f"{_value(settings.get('sample_rate'))} Hz, "
                f"{_value(settings.get('length'))} samples, attack "
                f"{_value(settings.get('attack_seconds'))} s",
            )
        )
    return rows


def _training_rows(card):
    """How long it trained, in what batches, why it stopped, and when."""
    rows = []
    training = card.training
    if card.epochs is not None or training:
        parts = [f"{_value(card.epochs)} epochs"]
        if training.get("batch_size") is not None:
            parts.append(f"batch {training['batch_size']}")
        if training.get("seconds") is not None:
            parts.append(f"{training['seconds'] / 60:.1f} min")
        rows.append(_row("training", ", ".join(parts)))
        if training.get("stopped"):
            rows.append(_row("", str(training["stopped"])))
    if card.date:
        rows.append(_row("trained on", card.date.replace("T", " ")[:16]))
    return rows


def _loss_rows(card):
    """The shipped epoch's losses (the last, or the best that early stopping kept), then its
    other numbers."""
    if not card.losses:
        return []
    losses = {key: value for key, value in card.losses.items() if "loss" in key}
    kept = card.training.get("kept_epoch")
    if kept is not None:
        rows = ["", f"Losses of epoch {kept}, whose weights these are (lower is better)"]
    else:
        rows = ["", "Final losses (of the last epoch, lower is better)"]
    rows += [_row(words_for(key), _value(value), LOSS_WIDTH) for key, value in losses.items()]
    rows += [_row(words_for(key), _value(value), LOSS_WIDTH) for key, value in card.losses.items() if key not in losses]
    return rows
