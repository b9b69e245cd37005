"""The polyphase engine and what the structure review found around it (issue 17): saved
models load after ``import upsample1d``, in either import order; an import of Keras' own NumPy
backend first does not break the package; a layer's dtype policy reaches its sub-layers; the
conversions unwrap both ``Upsample1D`` and ``Downsample1D``; one symbolic Operation and one
constant cache, keyed by the design, for every fixed resampler.
"""

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import BACKEND, to_backend, to_numpy

from upsample1d import filters
from upsample1d.layers import (
    AliasFreeActivation1D,
    SpaceToDepthConv1D,
    StridedConv1D,
    SubpixelConv1D,
    TransposedConvUpsample1D,
    Upsample1D,
)
from upsample1d.ops import (
    DOWNSAMPLING_OPS,
    UPSAMPLING_OPS,
    downsample_alias_free_1d,
    polyphase_downsample_1d,
    polyphase_upsample_1d,
    upsample_alias_free_1d,
)

ROOT = Path(__file__).resolve().parents[1]


def _python(code, timeout=300):
    """Run ``code`` in a fresh interpreter on the active backend; its stdout."""
    env = {**os.environ, "KERAS_BACKEND": BACKEND, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=timeout, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# --- registration on import -------------------------------------------------------------------

@pytest.fixture(scope="module")
def saved_demucs(tmp_path_factory):
    """A saved model with the package's layers, the GLU of models and an initializer."""
    from upsample1d.models import demucs_like

    model = demucs_like("subpixel", length=64, depth=2, channels=4, lstm_layers=0,
                        downsampler="space_to_depth")
    path = tmp_path_factory.mktemp("saved") / "demucs.keras"
    model.save(path)
    x = np.random.default_rng(0).normal(size=(1, 64, 1)).astype(np.float32)
    return path, x, model.predict(x, verbose=0)


@pytest.mark.parametrize("order", ["upsample1d first",  # the order that once broke
                                   pytest.param("keras first", marks=pytest.mark.slow)])
def test_a_saved_model_loads_after_import_upsample1d(saved_demucs, order, tmp_path):
    """``import upsample1d`` (or any of its modules), before or after Keras: load_model finds
    every class (Keras itself auto-imports only keras modules). Before: a module of the
    package that imports Keras itself (ops) must not get the registration half-way through
    its own import (a warning, made an error here)."""
    path, x, expected = saved_demucs
    np.save(tmp_path / "x.npy", x)
    imports = ("import warnings; warnings.simplefilter('error', RuntimeWarning)\n"
               "from upsample1d.ops import resample_1d\nimport keras"
               if order == "upsample1d first" else "import keras, upsample1d")
    out = _python(f"{imports}\nimport numpy as np\n"
                  f"model = keras.saving.load_model({str(path)!r}, safe_mode=True)\n"
                  f"y = model.predict(np.load({str(tmp_path / 'x.npy')!r}), verbose=0)\n"
                  f"np.save({str(tmp_path / 'y.npy')!r}, y); print('loaded')")
    assert "loaded" in out
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=1e-5, atol=1e-6)


def test_import_upsample1d_imports_no_framework_until_keras_is():
    out = _python("import sys, upsample1d\n"
                  "print(sorted(m for m in ('keras', 'jax', 'tensorflow', 'torch') "
                  "if m in sys.modules))")
    assert out.strip() == "[]"


def test_keras_numpy_backend_imported_first_breaks_nothing():
    """keras.src.backend.numpy (Keras' NumPy backend, imported by some Keras code paths)
    rebinds the attribute ``numpy`` of keras.src.backend: the shuffle must not read it."""
    out = _python("import numpy as np, keras\nimport keras.src.backend.numpy\n"
                  "from keras.ops import convert_to_numpy\n"
                  "from upsample1d.ops import depth_to_space_1d, space_to_depth_1d\n"
                  "x = np.arange(8, dtype='float32').reshape(1, 2, 4)\n"
                  "y = depth_to_space_1d(x, 2, mode='CRD')\n"
                  "print(convert_to_numpy(depth_to_space_1d(x, 2))[0, :, 0].tolist(),\n"
                  "      convert_to_numpy(space_to_depth_1d(y, 2, mode='CRD'))[0, 0].tolist())")
    assert out.strip() == "[0.0, 2.0, 4.0, 6.0] [0.0, 1.0, 2.0, 3.0]"


# --- dtype policies reach the sub-layers --------------------------------------------------------

@pytest.mark.parametrize("policy", ["float16", "mixed_float16", "float64"])
def test_alias_free_snake_takes_the_layer_dtype_policy(policy):
    if policy == "float64" and BACKEND == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("JAX holds float64 as float32 unless jax_enable_x64 is set")
    layer = AliasFreeActivation1D("snake", dtype=policy)
    y = layer(to_backend(np.ones((1, 20, 3), np.float32)))
    variable = keras.mixed_precision.Policy(policy).variable_dtype
    compute = keras.mixed_precision.Policy(policy).compute_dtype
    assert keras.backend.standardize_dtype(layer.activation.alpha.dtype) == variable
    assert keras.backend.standardize_dtype(y.dtype) == compute
    assert layer.activation.dtype_policy.name == policy


# --- conversions unwrap both wrappers -----------------------------------------------------------

def test_conversions_accept_upsample1d_and_downsample1d_alike():
    from upsample1d.layers import Downsample1D

    x = to_backend(np.random.default_rng(1).normal(size=(2, 12, 3)).astype(np.float32))
    pairs = [(Upsample1D(4, 2, method="transposed"), SubpixelConv1D.from_transposed),
             (Upsample1D(4, 2, method="subpixel", kernel_initializer="glorot_uniform"),
              TransposedConvUpsample1D.from_subpixel),
             (Downsample1D(4, 2, method="strided"), SpaceToDepthConv1D.from_strided),
             (Downsample1D(4, 2, method="space_to_depth"), StridedConv1D.from_space_to_depth)]
    for wrapper, convert in pairs:
        expected = to_numpy(wrapper(x))
        np.testing.assert_allclose(to_numpy(convert(wrapper)(x)), expected, rtol=1e-5,
                                   atol=1e-6, err_msg=f"{wrapper.method} {convert.__name__}")


# Keras' torch convert_to_numpy of a tensor without gradient (a frozen kernel) calls
# np.array on it, which NumPy 2 warns about for torch's __array__
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_conversions_keep_name_and_trainable_and_name_what_they_drop():
    """A frozen layer converted trained again under a generated name, and its regularizer
    and constraint went without a word."""
    from upsample1d.layers import Downsample1D

    cases = [(Upsample1D(4, 2, method="transposed", name="dec_up", trainable=False),
              SubpixelConv1D.from_transposed),
             (TransposedConvUpsample1D(4, 2, name="up", trainable=False,
                                       kernel_regularizer="l2"),
              SubpixelConv1D.from_transposed),
             (SubpixelConv1D(4, 2, name="up", trainable=False,
                             bias_constraint=keras.constraints.NonNeg()),
              TransposedConvUpsample1D.from_subpixel),
             (Downsample1D(4, 2, method="strided", name="enc_down", trainable=False),
              SpaceToDepthConv1D.from_strided),
             (SpaceToDepthConv1D(4, 2, name="down", trainable=False,
                                 kernel_constraint="max_norm"),
              StridedConv1D.from_space_to_depth)]
    x = to_backend(np.ones((1, 12, 3), np.float32))
    for layer, convert in cases:
        layer(x)
        unwrapped = getattr(layer, "chosen", layer)
        dropped = [a for a in ("kernel_regularizer", "bias_constraint", "kernel_constraint")
                   if getattr(unwrapped, a, None) is not None]
        if dropped:
            with pytest.warns(UserWarning, match=rf"does not carry {layer.name}'s {dropped[0]}"):
                new = convert(layer)
        else:
            new = convert(layer)
        assert (new.name, new.trainable, new.trainable_weights) == (layer.name, False, [])


# --- one symbolic Operation, one constant cache -----------------------------------------------

def test_every_fixed_resampler_has_the_one_symbolic_operation():
    from upsample1d.ops import _polyphase

    x = keras.Input((None, 3))
    calls = [lambda x, op=op: op(x, 2) for op in (*UPSAMPLING_OPS, *DOWNSAMPLING_OPS)]
    calls += [lambda x: upsample_alias_free_1d(x, 2), lambda x: downsample_alias_free_1d(x, 2),
              lambda x: polyphase_upsample_1d(x, np.ones((1, 2)), (0, 0)),
              lambda x: polyphase_downsample_1d(x, [0.5, 0.5], 2)]
    for call in calls:
        operation = call(x)._keras_history.operation
        assert type(operation) is _polyphase._Resample, type(operation)


def _first(design_args):
    return np.full(3, float(design_args))


def _second(design_args):
    return np.full(3, -float(design_args))


def test_constants_are_keyed_by_their_design():
    """Two designs with the same arguments but different functions never share a constant;
    the same design gives the same tensor (eagerly), read-only arrays."""
    from upsample1d.ops import _polyphase as engine

    like = to_backend(np.zeros((1, 2, 1), np.float32))
    one, two = engine.design(_first, 2), engine.design(_second, 2)
    a, b = engine.constant(one, "float32", like), engine.constant(two, "float32", like)
    assert to_numpy(a).tolist() == [2.0] * 3 and to_numpy(b).tolist() == [-2.0] * 3
    assert engine.constant(engine.design(_first, 2), "float32", like) is a
    assert not engine.array(one).flags.writeable
    mine = np.ones(3)
    assert engine.array(mine) is mine  # a caller's array is used as it is, never cached
    assert all(key[0] is not mine for key in engine._TENSORS)


def test_filters_are_the_designs_the_ops_run():
    """The engine runs filters' designs unchanged: sinc upsampling equals the sinc bank run
    by polyphase_upsample_1d with zero edges."""
    from upsample1d.ops import upsample_sinc_1d

    x = np.random.default_rng(2).normal(size=(1, 30, 2)).astype(np.float32)
    bank, pad = filters.sinc_bank(3)
    np.testing.assert_allclose(to_numpy(upsample_sinc_1d(to_backend(x), 3)),
                               to_numpy(polyphase_upsample_1d(to_backend(x), bank, pad)),
                               rtol=0, atol=1e-6)


# --- filter design: large Kaiser betas, checked arguments ----------------------------------------

def test_kaiser_window_is_np_kaiser_and_finite_past_its_overflow():
    """np.kaiser divides by I0(beta), which overflows float64 past beta ~709: every tap NaN,
    and so every output of a resampler or alias-free filter designed with it."""
    from upsample1d.ops import resample_1d

    for beta in (0.0, 5.0, 14.2, 700.0):
        np.testing.assert_array_equal(filters.kaiser_window(61, beta), np.kaiser(61, beta))
    # the exact ratio, I0 scaled by exp(-x): I0(x) = i0e(x) e^x (scipy's i0e has no overflow)
    from scipy.special import i0e

    for length, beta in ((61, 700.5), (61, 720.0), (12, 758.0), (1601, 1000.0)):
        half = (length - 1) / 2
        x = beta * np.sqrt(np.clip(1 - ((np.arange(length) - half) / half) ** 2, 0, 1))
        exact = i0e(x) * np.exp(x - beta) / i0e(beta)
        np.testing.assert_allclose(filters.kaiser_window(length, beta), exact, rtol=1e-12,
                                   atol=1e-300)
    assert np.isfinite(filters.kaiser_sinc_filter(0.25, 0.3, 1600)).all()  # Kaiser's beta 758
    assert np.isfinite(filters.resample_prototype(3, 2, 10, 1.0, 720.0)).all()
    assert np.isfinite(filters.sinc_prototype(2, 10, 1000.0)).all()
    x = np.random.default_rng(0).normal(size=(1, 64, 2)).astype(np.float32)
    y = to_numpy(resample_1d(to_backend(x), 3, 2, kaiser_beta=720.0))
    assert y.shape == (1, 96, 2) and np.isfinite(y).all() and np.abs(y).max() > 0.1


@pytest.mark.parametrize(("call", "error", "words"), [
    (lambda: filters.alias_free_up(2.7, 12, "alias_free_torch"), TypeError, "`factor`"),
    (lambda: filters.alias_free_down(2.7, 12, "alias_free_torch"), TypeError, "`factor`"),
    (lambda: filters.alias_free_up(0, 12, "sinc_bank"), ValueError, "factor=0"),
    (lambda: filters.alias_free_up(2, 12.5, "sinc_bank"), TypeError, "`kernel_size`"),
    (lambda: filters.alias_free_up(2, 12, "nonsense"), ValueError, "filter='nonsense'"),
    (lambda: filters.alias_free_down(2, 12, None), ValueError, "filter=None"),
    (lambda: filters.alias_free_up_geometry(2, 12, "sinc"), ValueError, "filter='sinc'"),
    (lambda: filters.alias_free_down_left(2.5, 12, "sinc_bank"), TypeError, "`factor`"),
    (lambda: filters.default_kernel_size(-3), ValueError, "factor=-3"),
    (lambda: filters.default_kernel_size(2.5), TypeError, "`factor`"),
    (lambda: filters.phase_decimator(np.ones(4), 0, 2.9), TypeError, "`factor`"),
    # alias-free-torch's upsampler makes no samples with K <= r: replicate counts were -1
    (lambda: filters.alias_free_up_geometry(4, 2, "alias_free_torch"), ValueError,
     "kernel_size=2"),
    (lambda: filters.alias_free_up(2, 2, "alias_free_torch"), ValueError, "kernel_size=2"),
    # resample_poly reduces 320/294 to 160/147: the unreduced filter had twice the taps and gain
    (lambda: filters.resample_prototype(320, 294, 10, 1.0, 5.0), ValueError,
     "lowest terms, got up=320, down=294: pass up=160, down=147"),
    # the factor was ignored: the bank's own phase count was used
    (lambda: filters.interpolation_composition(filters.linear_bank(2), (1, 1), 7, 9),
     ValueError, "2 phases, `factor` is 7"),
])
def test_alias_free_designs_refuse_what_would_give_another_filter(call, error, words):
    """A float ratio was truncated and an unknown filter name gave alias-free-torch's."""
    with pytest.raises(error, match=words.replace("(", r"\(")):
        call()


def test_alias_free_designs_down_take_short_kernels():
    """Only alias-free-torch's upsampler needs K > r; its downsampler and the sinc bank do not."""
    assert filters.alias_free_down(4, 2, "alias_free_torch").shape == (2,)
    assert filters.alias_free_up(4, 2, "sinc_bank").shape[1] == 4


def test_alias_free_filter_names_ignore_letter_case():
    np.testing.assert_array_equal(filters.alias_free_up(2, 12, "SINC_BANK"),
                                  filters.alias_free_up(2, 12, "sinc_bank"))
