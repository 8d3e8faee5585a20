"""Numbers and class names as people read them: the one place that formats them for text.

A figure in text is rounded for people (``number``: 6 significant digits; ``fixed``: a fixed
number of decimals, as the exercise's "%f"), and a value that rounds to zero prints as 0,
never "-0" or "-0.000000". A class name prints as the Python value it stands for, never as a
NumPy scalar's repr (``np.str_('malignant')``, ``np.int64(3)``). JSON keeps the exact floats:
nothing here is for it.

The bottom layer: it imports nothing of logreg.
"""

SIGNIFICANT = 6  # digits of ``number``: the "%g" people read


def _unsigned_zero(text):
    """"-0", "-0.000", "-0e+00" (a negative value that rounds to zero) without the sign."""
    if text.startswith("-"):
        try:
            if float(text) == 0:
                return text[1:]
        except ValueError:  # "-inf", or a format that is not a plain number
            pass
    return text


def number(value, digits=SIGNIFICANT):
    """``value`` to ``digits`` significant digits ("%g"): 0.693147, 1.5e-08, 2000; never -0."""
    return _unsigned_zero(f"{float(value):.{digits}g}")


def fixed(value, decimals=6):
    """``value`` with ``decimals`` decimals ("%f" for 6, as the exercise prints its costs);
    never -0.000000."""
    return _unsigned_zero(f"{float(value):.{decimals}f}")


def plain(label):
    """A class label as the Python value it stands for: np.str_('a') → 'a', np.int64(3) → 3
    (a NumPy scalar's ``item()``); anything else as it is."""
    item = getattr(label, "item", None)
    if item is not None and getattr(label, "shape", None) == ():
        return item()
    return label


def quoted(label):
    """A class label for a message, as Python writes the plain value: 'malignant', 3."""
    return repr(plain(label))


def quoted_list(labels, limit=None):
    """"'a', 'b', 'c'": labels for a message (at most ``limit``, then how many more)."""
    labels = list(labels)
    shown = labels if limit is None else labels[:limit]
    more = len(labels) - len(shown)
    return ", ".join(quoted(label) for label in shown) + (f" and {more} more" if more else "")
