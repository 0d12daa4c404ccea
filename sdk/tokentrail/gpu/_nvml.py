"""The sampler's window on the GPUs: the small `Nvml` interface and `RealNvml`, its pynvml version.

The interface is the seam where tests put `tokentrail.gpu.testing.FakeNvml`. Its contract: a
reading the device does not have (NVML answers "not supported", e.g. the energy counter before
Volta) is None; a call that fails raises, and the sampler turns that into a missing reading,
logged once. `open()` raises `GpuUnavailable` with a sentence saying why there is nothing to sample.

pynvml is imported only in `RealNvml.open()`, so importing tokentrail never loads it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")


class GpuUnavailable(Exception):
    """There is nothing to sample: no pynvml, no NVIDIA driver, no device. The message says which."""


@runtime_checkable
class Nvml(Protocol):
    """What the sampler asks of NVML; device indices run from 0 to `device_count() - 1`."""

    def open(self) -> None:
        """Start NVML; raises `GpuUnavailable` (with the reason) when there is no GPU to read."""

    def close(self) -> None:
        """Release NVML (`nvmlShutdown`); idempotent."""

    def device_count(self) -> int: ...

    def device_name(self, index: int) -> str | None: ...

    def device_uuid(self, index: int) -> str | None: ...

    def utilization_pct(self, index: int) -> float | None:
        """Percent of the last sample period during which a kernel ran (`nvmlDeviceGetUtilizationRates`)."""

    def memory_used_bytes(self, index: int) -> int | None: ...

    def memory_total_bytes(self, index: int) -> int | None: ...

    def power_watts(self, index: int) -> float | None: ...

    def total_energy_joules(self, index: int) -> float | None:
        """The device's energy counter since the driver loaded; None where it has none."""

    def process_devices(self, pid: int) -> frozenset[int] | None:
        """Indices of the devices where process `pid` has a compute or graphics context.

        None when NVML cannot tell. Inside a container NVML reports host PIDs, so the set is
        usually empty there: the sampler then falls back to all devices.
        """


# NVML's "this device has no such reading" answers: a missing reading, not a failure.
_ABSENT_ERROR_NAMES = ("NVML_ERROR_NOT_SUPPORTED", "NVML_ERROR_FUNCTION_NOT_FOUND")
_OPEN_FAILURES = {
    "NVML_ERROR_LIBRARY_NOT_FOUND": "no NVIDIA driver (the NVML library libnvidia-ml is not found)",
    "NVML_ERROR_DRIVER_NOT_LOADED": "the NVIDIA driver is not loaded",
    "NVML_ERROR_NO_PERMISSION": "no permission to use NVML",
    "NVML_ERROR_LIB_RM_VERSION_MISMATCH": "the NVML library does not match the loaded NVIDIA driver",
}
_MILLI = 1000.0


class RealNvml:
    """`Nvml` over pynvml (the `nvidia-ml-py` distribution: `pip install 'tokentrail[gpu]'`)."""

    def __init__(self) -> None:
        self._pynvml: ModuleType | None = None
        self._handles: list[Any] = []
        self._absent_codes: frozenset[int] = frozenset()

    @property
    def is_open(self) -> bool:
        return self._pynvml is not None

    def open(self) -> None:
        if self._pynvml is not None:
            return
        pynvml = _import_pynvml()
        try:
            pynvml.nvmlInit()
        except Exception as error:  # NVMLError, or a broken library (OSError, version mismatch)
            raise GpuUnavailable(_open_failure_reason(pynvml, error)) from error
        try:
            count = pynvml.nvmlDeviceGetCount()
            self._handles = [pynvml.nvmlDeviceGetHandleByIndex(index) for index in range(count)]
        except Exception as error:
            pynvml.nvmlShutdown()
            raise GpuUnavailable(f"NVML could not list the GPUs ({error})") from error
        self._absent_codes = frozenset(
            getattr(pynvml, name) for name in _ABSENT_ERROR_NAMES if hasattr(pynvml, name)
        )
        self._pynvml = pynvml

    def close(self) -> None:
        pynvml, self._pynvml = self._pynvml, None
        self._handles = []
        if pynvml is not None:
            pynvml.nvmlShutdown()

    def device_count(self) -> int:
        return len(self._handles)

    def device_name(self, index: int) -> str | None:
        return self._call(index, "nvmlDeviceGetName", _text)

    def device_uuid(self, index: int) -> str | None:
        return self._call(index, "nvmlDeviceGetUUID", _text)

    def utilization_pct(self, index: int) -> float | None:
        return self._call(index, "nvmlDeviceGetUtilizationRates", lambda rates: float(rates.gpu))

    def memory_used_bytes(self, index: int) -> int | None:
        return self._call(index, "nvmlDeviceGetMemoryInfo", lambda info: int(info.used))

    def memory_total_bytes(self, index: int) -> int | None:
        return self._call(index, "nvmlDeviceGetMemoryInfo", lambda info: int(info.total))

    def power_watts(self, index: int) -> float | None:
        return self._call(index, "nvmlDeviceGetPowerUsage", lambda milliwatts: milliwatts / _MILLI)

    def total_energy_joules(self, index: int) -> float | None:
        return self._call(
            index, "nvmlDeviceGetTotalEnergyConsumption", lambda millijoules: millijoules / _MILLI
        )

    def process_devices(self, pid: int) -> frozenset[int] | None:
        pynvml = self._module()
        found = set()
        for index, handle in enumerate(self._handles):
            for query in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
                try:
                    processes = getattr(pynvml, query)(handle)
                except pynvml.NVMLError as error:
                    if getattr(error, "value", None) in self._absent_codes:
                        continue
                    raise
                if any(process.pid == pid for process in processes):
                    found.add(index)
                    break
        return frozenset(found)

    def _module(self) -> ModuleType:
        pynvml = self._pynvml
        if pynvml is None:
            raise RuntimeError("RealNvml is not open")
        return pynvml

    def _call(self, index: int, function: str, convert: Callable[[Any], T]) -> T | None:
        pynvml = self._module()
        try:
            value = getattr(pynvml, function)(self._handles[index])
        except pynvml.NVMLError as error:
            if getattr(error, "value", None) in self._absent_codes:
                return None
            raise
        return convert(value)


def _import_pynvml() -> ModuleType:
    try:
        with warnings.catch_warnings():
            # The old `pynvml` distribution warns that it is deprecated in favour of nvidia-ml-py.
            warnings.simplefilter("ignore", FutureWarning)
            import pynvml
    except ImportError as error:
        raise GpuUnavailable("pynvml is not installed (pip install 'tokentrail[gpu]')") from error
    module: ModuleType = pynvml  # untyped (nvidia-ml-py has no type information): Any to mypy
    return module


def _open_failure_reason(pynvml: ModuleType, error: Exception) -> str:
    code = getattr(error, "value", None)
    for name, reason in _OPEN_FAILURES.items():
        if code is not None and code == getattr(pynvml, name, object()):
            return reason
    return f"NVML failed to start ({error})"


def _text(value: str | bytes) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
