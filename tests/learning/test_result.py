"""TrainingHistory and TrainingResult: records, NaN for unmeasured epochs, round trips."""

import math

import numpy as np
import pytest

from pgm_energy.exceptions import ValidationError
from pgm_energy.learning import STOP_REASONS, TrainingHistory, TrainingResult


def _history():
    history = TrainingHistory()
    history.append({"epoch": 1, "seconds": 0.5, "reconstruction_error": 4.0})
    history.append({"epoch": 2, "seconds": 0.25, "log_likelihood": -20.5})
    history.append({"epoch": 3, "seconds": 0.25, "reconstruction_error": 3.0})
    return history


def test_metrics_in_order_of_first_appearance_and_nan_when_absent():
    history = _history()
    assert history.metrics == ("epoch", "seconds", "reconstruction_error", "log_likelihood")
    np.testing.assert_array_equal(history["reconstruction_error"], [4.0, np.nan, 3.0])
    assert history.last("reconstruction_error") == 3.0
    assert history.last("log_likelihood") == -20.5
    assert len(history) == 3
    assert history.last_record() == {"epoch": 3.0, "seconds": 0.25, "reconstruction_error": 3.0}
    assert TrainingHistory().last_record() == {}


def test_unknown_metric_is_a_key_error_listing_the_recorded_ones():
    with pytest.raises(KeyError, match="reconstruction_error"):
        _history()["nope"]


def test_records_are_copies():
    history = _history()
    history.records[0]["epoch"] = 99.0
    assert history["epoch"][0] == 1.0


def test_array_round_trip_and_pandas():
    history = _history()
    assert TrainingHistory.from_arrays(history.to_arrays()) == history
    frame = history.to_pandas()
    assert list(frame.index) == [1, 2, 3]
    assert math.isnan(frame.loc[2, "reconstruction_error"])


@pytest.mark.parametrize("record", [{"seconds": 1.0}, {"epoch": 1, "": 2.0}, ["epoch", 1]])
def test_bad_records_are_refused(record):
    with pytest.raises(ValidationError):
        TrainingHistory().append(record)


def test_result_defaults_to_completed():
    result = TrainingResult(model=None, history=TrainingHistory())
    assert result.stop_reason == "completed" and result.stop_reason in STOP_REASONS
