"""The boundary checks (logreg.core.checks): clean (n_x, m) / (1, m) arrays, or a clear error.

Every refusal must be the package's own error (a LogregError that is also a ValueError or a
TypeError), and its message must name what was received and how to fix it.
"""

import re

import numpy as np
import pytest

from logreg.core.checks import (
    as_numeric_array,
    check_features,
    check_labels,
    check_test_data,
    check_training_data,
    encode_labels,
)
from logreg.errors import InvalidInputError, InvalidTypeError, LogregError

X_GOOD = np.array([[1.0, 2.0, 3.0, 4.0],
                   [0.5, 0.0, -1.0, 2.0]])  # n_x = 2, m = 4
Y_GOOD = np.array([[0, 1, 1, 0]])


def refused(error_type, pattern):
    """pytest.raises for the package's own error of the given built-in kind."""
    assert issubclass(error_type, LogregError)
    return pytest.raises(error_type, match=pattern)


# --- error classes ------------------------------------------------------------------------


def test_error_classes_are_package_errors_and_builtin_kinds():
    assert issubclass(InvalidInputError, LogregError)
    assert issubclass(InvalidInputError, ValueError)
    assert issubclass(InvalidTypeError, LogregError)
    assert issubclass(InvalidTypeError, TypeError)


# --- shape of X ----------------------------------------------------------------------------


def test_rank1_X_refused_with_shape_and_reshape_fix():
    with refused(InvalidInputError, r"shape \(4,\).*rank-1") as info:
        check_features(np.arange(4.0))
    message = str(info.value)
    assert "(n_x, m)" in message
    assert "reshape(1, -1)" in message and "reshape(-1, 1)" in message


def test_3d_X_refused_with_shape_and_flatten_fix():
    with refused(InvalidInputError, r"shape \(5, 4, 3\).*3-D") as info:
        check_features(np.zeros((5, 4, 3)))
    assert "flatten_images" in str(info.value)


def test_rank1_X_in_training_data_refused():
    with refused(InvalidInputError, r"rank-1"):
        check_training_data(np.arange(4.0), np.array([0, 1, 0, 1]))


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0)])
def test_empty_X_refused(shape):
    with refused(InvalidInputError, re.escape(str(shape)) + r".*empty"):
        check_features(np.zeros(shape))


def test_empty_X_refused_in_training_data():
    with refused(InvalidInputError, r"empty"):
        check_training_data(np.zeros((3, 0)), np.zeros((1, 0)))


def test_wrong_number_of_features_names_both_counts_and_transpose_fix():
    with refused(InvalidInputError, r"3 features.*expects 2") as info:
        check_features(np.zeros((3, 4)), n_x=2)
    assert ".T" in str(info.value)


def test_check_test_data_checks_feature_count_and_allows_one_class():
    X, Y = check_test_data(X_GOOD, np.ones(4), n_x=2)
    np.testing.assert_array_equal(Y, np.ones((1, 4)))
    with refused(InvalidInputError, r"2 features.*expects 5"):
        check_test_data(X_GOOD, Y_GOOD, n_x=5)


# --- m of X and Y ----------------------------------------------------------------------------


def test_m_of_X_and_Y_differ_names_both_counts():
    with refused(InvalidInputError, r"Y has 3 labels but X has 4 examples"):
        check_training_data(X_GOOD, np.array([[0, 1, 1]]))


def test_X_given_rows_as_examples_gives_count_mismatch_with_layout_hint():
    # a user hands in (m, n_x) = (4, 2): 2 "examples" against 4 labels
    with refused(InvalidInputError, r"4 labels but X has 2 examples") as info:
        check_training_data(X_GOOD.T, Y_GOOD)
    assert "(n_x, m)" in str(info.value)


# --- NaN and infinities ------------------------------------------------------------------------


@pytest.mark.parametrize("bad, text", [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_X_refused_naming_value_and_position(bad, text):
    X = X_GOOD.copy()
    X[1, 2] = bad
    with refused(InvalidInputError, rf"X contains {re.escape(text)} at index \(1, 2\)") as info:
        check_training_data(X, Y_GOOD)
    assert "Remove or impute" in str(info.value)


@pytest.mark.parametrize("bad, text", [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_Y_refused_naming_value_and_position(bad, text):
    Y = Y_GOOD.astype(float)
    Y[0, 3] = bad
    with refused(InvalidInputError, rf"Y contains {re.escape(text)} at index \(0, 3\)"):
        check_training_data(X_GOOD, Y)


def test_minus_inf_is_reported_as_minus_inf_not_plus():
    X = X_GOOD.copy()
    X[0, 0] = -np.inf
    with pytest.raises(InvalidInputError) as info:
        check_features(X)
    assert "contains -inf" in str(info.value)


# --- labels ------------------------------------------------------------------------------------------


def test_labels_not_0_1_refused_naming_them_and_encode_labels_fix():
    with refused(InvalidInputError, r"labels 0\.0, 1\.0, 2\.0.*expected 0 and 1") as info:
        check_training_data(np.zeros((2, 3)), np.array([0, 1, 2]))
    assert "encode_labels" in str(info.value)


def test_labels_minus1_plus1_refused():
    with refused(InvalidInputError, r"-1\.0.*expected 0 and 1"):
        check_labels(np.array([-1, 1, 1, -1]), 4)


def test_fractional_labels_refused():
    with refused(InvalidInputError, r"0\.5"):
        check_labels(np.array([0, 0.5, 1]), 3)


@pytest.mark.parametrize("only", [0, 1])
def test_one_class_only_refused_for_training(only):
    with refused(InvalidInputError, rf"one class only \({only}\.0\).*both 0 and 1"):
        check_training_data(X_GOOD, np.full(4, only))


def test_one_class_allowed_when_asked():
    _, Y = check_training_data(X_GOOD, np.ones(4), allow_one_class=True)
    np.testing.assert_array_equal(Y, np.ones((1, 4)))


def test_Y_rank1_becomes_row():
    Y = check_labels(np.array([0, 1, 1, 0]), 4)
    assert Y.shape == (1, 4)
    np.testing.assert_array_equal(Y, [[0, 1, 1, 0]])


def test_Y_column_refused_with_transpose_fix():
    with refused(InvalidInputError, r"shape \(4, 1\); expected \(1, m\)") as info:
        check_training_data(X_GOOD, np.array([[0], [1], [1], [0]]))
    assert "Y.T" in str(info.value)


def test_Y_matrix_refused_without_misleading_transpose_fix():
    with refused(InvalidInputError, r"shape \(2, 4\); expected \(1, m\)") as info:
        check_labels(np.zeros((2, 4)), 4)
    assert ".T" not in str(info.value)


def test_Y_3d_refused():
    with refused(InvalidInputError, r"shape \(1, 1, 4\)"):
        check_labels(np.zeros((1, 1, 4)), 4)


# --- kinds of data ------------------------------------------------------------------------------------


def test_strings_refused_naming_them():
    with refused(InvalidInputError, r"not numbers \('a', 'b'.*numbers only") as info:
        check_features(np.array([["a", "b"], ["c", "d"]]))
    assert isinstance(info.value, ValueError)


def test_strings_in_Y_refused():
    with refused(InvalidInputError, r"Y holds values that are not numbers.*'cat'"):
        check_training_data(X_GOOD, np.array(["cat", "dog", "cat", "dog"]))


def test_object_array_of_dicts_is_a_type_error():
    X = np.empty((1, 2), dtype=object)
    X[0, 0], X[0, 1] = {}, {"a": 1}
    with refused(InvalidTypeError, r"not numbers \(\{\}, \{'a': 1\}\)") as info:
        check_features(X)
    assert isinstance(info.value, TypeError)


def test_object_array_mixing_numbers_and_text_names_the_text():
    X = np.array([[1.0, "x"], [2.0, 3.0]], dtype=object)
    with refused(InvalidInputError, r"not numbers \('x'\)"):
        check_features(X)


def test_object_array_of_numbers_is_accepted_as_float64():
    X = check_features(np.array([[1, 2.5], [3, 4]], dtype=object))
    assert X.dtype == np.float64
    np.testing.assert_array_equal(X, [[1, 2.5], [3, 4]])


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_numbers_refused_with_real_fix(dtype):
    X = np.array([[1 + 2j, 3 + 0j]], dtype=dtype)
    with refused(InvalidInputError, r"complex numbers") as info:
        check_features(X)
    assert "X.real" in str(info.value)


def test_complex_from_a_list_refused():
    with refused(InvalidInputError, r"complex"):
        check_features([[1 + 2j, 1.0]])


def test_ragged_rows_refused_with_rectangular_hint():
    with refused(InvalidInputError, r"same length"):
        check_features([[1.0, 2.0], [3.0]])


def test_datetime_refused_as_type_error():
    with refused(InvalidTypeError, r"datetime64"):
        as_numeric_array(np.array([["2020-01-01"]], dtype="datetime64[D]"))


# --- dtypes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.bool_])
def test_ints_and_bools_become_float64(dtype):
    X = np.array([[1, 0, 1], [0, 1, 1]], dtype=dtype)
    out = check_features(X)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, X.astype(np.float64))


def test_float32_stays_float32_and_Y_follows_X():
    X = X_GOOD.astype(np.float32)
    X_out, Y_out = check_training_data(X, np.array([0, 1, 1, 0]))
    assert X_out.dtype == np.float32
    assert Y_out.dtype == np.float32
    assert Y_out.shape == (1, 4)
    np.testing.assert_array_equal(X_out, X)


def test_float64_passes_through_unchanged():
    X_out, Y_out = check_training_data(X_GOOD, Y_GOOD)
    assert X_out.dtype == np.float64 and Y_out.dtype == np.float64
    np.testing.assert_array_equal(X_out, X_GOOD)
    np.testing.assert_array_equal(Y_out, Y_GOOD)


def test_bool_labels_are_accepted_as_0_1():
    _, Y = check_training_data(X_GOOD, np.array([False, True, True, False]))
    np.testing.assert_array_equal(Y, [[0.0, 1.0, 1.0, 0.0]])


def test_list_input_is_accepted():
    X, Y = check_training_data([[1, 2], [3, 4]], [1, 0])
    assert X.dtype == np.float64 and X.shape == (2, 2)
    np.testing.assert_array_equal(Y, [[1.0, 0.0]])


# --- encode_labels ---------------------------------------------------------------------------


def test_encode_labels_strings_sorted_second_class_is_1():
    Y, classes = encode_labels(["dog", "cat", "cat", "dog", "dog"])
    assert list(classes) == ["cat", "dog"]
    assert Y.shape == (1, 5) and Y.dtype == np.float64
    np.testing.assert_array_equal(Y, [[1, 0, 0, 1, 1]])


def test_encode_labels_ints_sorted_numerically():
    Y, classes = encode_labels([10, 2, 2, 10])
    assert list(classes) == [2, 10]
    np.testing.assert_array_equal(Y, [[1, 0, 0, 1]])


def test_encode_labels_bools():
    Y, classes = encode_labels([True, False, True])
    assert list(classes) == [False, True]
    np.testing.assert_array_equal(Y, [[1, 0, 1]])


def test_encode_labels_accepts_a_row_or_column_of_labels():
    for labels in (np.array([["a", "b", "a"]]), np.array([["a"], ["b"], ["a"]])):
        Y, _ = encode_labels(labels)
        np.testing.assert_array_equal(Y, [[0, 1, 0]])


def test_encode_labels_three_classes_refused_naming_them():
    with refused(InvalidInputError, r"3 classes \('a', 'b', 'c'\).*exactly two"):
        encode_labels(["a", "b", "c", "a"])


def test_encode_labels_one_class_refused():
    with refused(InvalidInputError, r"one class only \('a'\)"):
        encode_labels(["a", "a"])


def test_encode_labels_empty_refused():
    with refused(InvalidInputError, r"no labels"):
        encode_labels([])


def test_encode_labels_2d_refused():
    with refused(InvalidInputError, r"shape \(2, 2\)"):
        encode_labels([["a", "b"], ["b", "a"]])


def test_encode_labels_with_given_classes_keeps_their_order():
    # a model's classes: "non-cat" is 0 and "cat" is 1 even though "cat" sorts first
    Y, classes = encode_labels(["cat", "non-cat", "cat"], classes=["non-cat", "cat"])
    assert list(classes) == ["non-cat", "cat"]
    np.testing.assert_array_equal(Y, [[1, 0, 1]])


def test_encode_labels_with_given_classes_allows_one_class_present():
    Y, _ = encode_labels(["cat", "cat"], classes=["dog", "cat"])
    np.testing.assert_array_equal(Y, [[1, 1]])


def test_encode_labels_with_given_classes_refuses_unknown_labels():
    with refused(InvalidInputError, r"'bird'.*does not know.*'cat', 'dog'"):
        encode_labels(["cat", "bird", "dog"], classes=["cat", "dog"])


def test_encode_labels_with_given_int_classes_refuses_unknown():
    with refused(InvalidInputError, r"\b5\b.*expected only 3, 8"):
        encode_labels([3, 5, 8], classes=[3, 8])


# --- sizes checked before any allocation -----------------------------------------------------


def test_format_bytes_by_hand():
    from logreg.core.checks import format_bytes

    assert format_bytes(0) == "0 B" and format_bytes(1023) == "1023 B"
    assert format_bytes(1024) == "1.0 KiB" and format_bytes(3 * 2**30) == "3.0 GiB"
    assert format_bytes(1.5 * 2**40) == "1.5 TiB" and format_bytes(2**60) == "1024.0 PiB"


def test_available_memory_is_a_plausible_byte_count():
    from logreg.core.checks import available_memory

    available = available_memory()
    assert available is None or 2**20 < available < 2**50


def test_check_memory_refuses_naming_both_sizes_and_the_fix(monkeypatch):
    from logreg.core.checks import check_memory

    monkeypatch.setattr("logreg.core.checks.available_memory", lambda: 2**30)
    assert check_memory(2**30, "X", "smaller") == 2**30  # exactly what is free: accepted
    with pytest.raises(InvalidInputError,
                       match=r"^X of shape \(9, 9\) would need 1\.0 GiB of memory, but "
                             r"1\.0 GiB is available\. Fix: use fewer rows\.$"):
        check_memory(2**30 + 1, "X of shape (9, 9)", "use fewer rows")
    monkeypatch.setattr("logreg.core.checks.available_memory", lambda: None)
    assert check_memory(2**80, "X", "smaller") == 2**80  # a system that does not say
