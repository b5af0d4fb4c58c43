"""The shipped Sign Language MNIST subset: load_signs and prepare_images."""

import shutil
from pathlib import Path

import numpy as np
import pytest

import cnn_helpers
from cnn_helpers import load_signs, prepare_images

DATA_FILE = Path(cnn_helpers.__file__).resolve().parent.parent / "data" / "sign_mnist.npz"
LETTERS = tuple("ABCDEFGHIKLMNOPQRSTUVWXY")


@pytest.fixture(scope="module")
def signs():
    return load_signs()


def test_load_signs_shapes_dtypes_and_classes(signs):
    """Stored as uint8 images and integer labels 0..23 for the 24 static letters."""
    x_train, y_train, x_test, y_test, classes = signs
    assert x_train.shape == (4560, 28, 28) and x_test.shape == (7172, 28, 28)
    assert y_train.shape == (4560,) and y_test.shape == (7172,)
    assert x_train.dtype == np.uint8 and x_test.dtype == np.uint8
    assert np.issubdtype(y_train.dtype, np.integer) and np.issubdtype(y_test.dtype, np.integer)
    assert tuple(classes) == LETTERS and len(classes) == 24
    assert "J" not in classes and "Z" not in classes
    for y in (y_train, y_test):
        assert y.min() == 0 and y.max() == 23
        assert set(np.unique(y)) == set(range(24))
    assert signs.x_train is x_train  # a named tuple


def test_load_signs_from_another_working_directory(tmp_path, monkeypatch, signs):
    """The default path is found from the package, not from the current directory."""
    monkeypatch.chdir(tmp_path)
    again = load_signs()
    np.testing.assert_array_equal(again.y_train, signs.y_train)
    np.testing.assert_array_equal(again.x_test[:10], signs.x_test[:10])


def test_corrupt_file_is_rejected_with_sha256_message(tmp_path):
    """A copy with one flipped byte fails the checksum; the message names the file."""
    bad = tmp_path / "sign_mnist_corrupt.npz"
    shutil.copyfile(DATA_FILE, bad)
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises((ValueError, OSError)) as info:
        load_signs(bad)
    message = str(info.value)
    assert str(bad) in message
    assert "sha256" in message.lower()


def test_intact_copy_loads(tmp_path, signs):
    """An unmodified copy elsewhere passes the checksum (the rejection above is real)."""
    good = tmp_path / "copy.npz"
    shutil.copyfile(DATA_FILE, good)
    np.testing.assert_array_equal(load_signs(good).y_test, signs.y_test)


def test_missing_file_error_is_file_not_found_and_value_error(tmp_path):
    """A missing path raises an error that is both FileNotFoundError and ValueError."""
    missing = tmp_path / "nowhere" / "sign_mnist.npz"
    with pytest.raises(FileNotFoundError) as info:
        load_signs(missing)
    assert isinstance(info.value, ValueError)
    assert str(missing) in str(info.value)
    with pytest.raises(ValueError):
        load_signs(str(missing))


def test_splits_with_different_image_sizes_are_rejected(tmp_path, signs):
    """The image size comes from the file, but both splits must share it."""
    bad = tmp_path / "sizes.npz"
    np.savez(
        bad,
        x_train=signs.x_train[:8],
        y_train=signs.y_train[:8],
        x_test=signs.x_test[:8, :27, :27],
        y_test=signs.y_test[:8],
        classes=np.array(signs.classes),
    )
    with pytest.raises(ValueError, match="test split is inconsistent"):
        load_signs(bad, verify=False)
    np.savez(
        bad,
        x_train=signs.x_train[:8, :27, :27],
        y_train=signs.y_train[:8],
        x_test=signs.x_test[:8, :27, :27],
        y_test=signs.y_test[:8],
        classes=np.array(signs.classes),
    )
    assert load_signs(bad, verify=False).x_test.shape == (8, 27, 27)


def test_prepare_images_float64_normalized(signs):
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float64 with about zero mean, unit std on train."""
    X = prepare_images(signs.x_train)
    assert X.shape == (4560, 1, 28, 28) and X.dtype == np.float64
    assert abs(X.mean()) < 0.05
    assert abs(X.std() - 1.0) < 0.05
    # one increasing affine map of the pixel values, the same for every image and pixel
    black = prepare_images(np.zeros((1, 28, 28), dtype=np.uint8))
    white = prepare_images(np.full((1, 28, 28), 255, dtype=np.uint8))
    assert np.ptp(black) == 0 and np.ptp(white) == 0
    slope = (white[0, 0, 0, 0] - black[0, 0, 0, 0]) / 255.0
    assert slope > 0
    np.testing.assert_allclose(
        X[:, 0], black[0, 0, 0, 0] + slope * signs.x_train, rtol=1e-12, atol=1e-12
    )


def test_prepare_images_float32(signs):
    """dtype=np.float32 gives the same numbers in single precision."""
    X32 = prepare_images(signs.x_train[:16], dtype=np.float32)
    X64 = prepare_images(signs.x_train[:16])
    assert X32.dtype == np.float32 and X32.shape == (16, 1, 28, 28)
    np.testing.assert_allclose(X32, X64, rtol=1e-5, atol=1e-5)


def test_prepare_images_rejects_bad_input(signs):
    """Only stored uint8 images: other dtypes are TypeError, other shapes ValueError."""
    with pytest.raises(TypeError):
        prepare_images(signs.x_train[:4].astype(np.float64))
    with pytest.raises(TypeError):
        prepare_images(signs.x_train[:4].astype(np.int64))
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        prepare_images(signs.x_train[:4, :27], image_hw=(28, 28))
    with pytest.raises(ValueError):
        prepare_images(signs.x_train[:4, None])
    with pytest.raises(ValueError):
        prepare_images(np.zeros((4, 28 * 28), dtype=np.uint8), image_hw=(28, 28))
    with pytest.raises(ValueError):
        prepare_images(np.zeros(5, dtype=np.uint8))


def test_prepare_images_takes_the_size_from_the_images(signs):
    """No image size is built in: a crop is prepared like the full images."""
    crop = prepare_images(signs.x_train[:4, 2:25, 1:27])
    assert crop.shape == (4, 1, 23, 26)
    np.testing.assert_array_equal(crop, prepare_images(signs.x_train[:4])[:, :, 2:25, 1:27])
    single = prepare_images(signs.x_test[0], image_hw=signs.x_test.shape[1:])
    assert single.shape == (1, 1, 28, 28)
