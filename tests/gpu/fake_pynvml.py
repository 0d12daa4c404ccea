"""A stand-in for the `pynvml` module (nvidia-ml-py's API shapes and units), to test `RealNvml`
where no GPU is present: milliwatts, millijoules, bytes or str names, NVMLError with a code."""

from __future__ import annotations

import types
from dataclasses import dataclass, field

NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_GPU_IS_LOST = 15


class NVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return f"NVML error {self.value}"


@dataclass
class Gpu:
    name: bytes | str = b"NVIDIA H100 80GB HBM3"
    uuid: str = "GPU-12345678-1234-1234-1234-123456789abc"
    util: int = 37
    used: int = 10 * 2**30
    total: int = 80 * 2**30
    milliwatts: int = 312_456
    millijoules: int | None = 987_654_321  # None: not supported
    pids: list[int] = field(default_factory=list)
    fail: dict[str, int] = field(default_factory=dict)  # function name -> NVML error code


def make(gpus: list[Gpu], *, init_error: int | None = None) -> types.ModuleType:
    module = types.ModuleType("pynvml")
    calls = {"nvmlInit": 0, "nvmlShutdown": 0}

    def check(handle: int, function: str) -> Gpu:
        gpu = gpus[handle]
        if function in gpu.fail:
            raise NVMLError(gpu.fail[function])
        return gpu

    def nvmlInit() -> None:  # noqa: N802
        calls["nvmlInit"] += 1
        if init_error is not None:
            raise NVMLError(init_error)

    def nvmlShutdown() -> None:  # noqa: N802
        calls["nvmlShutdown"] += 1

    def energy(handle: int) -> int:
        gpu = check(handle, "nvmlDeviceGetTotalEnergyConsumption")
        if gpu.millijoules is None:
            raise NVMLError(NVML_ERROR_NOT_SUPPORTED)
        return gpu.millijoules

    def processes(kind: str):  # noqa: ANN202
        def running(handle: int) -> list[types.SimpleNamespace]:
            gpu = check(handle, kind)
            return [types.SimpleNamespace(pid=pid, usedGpuMemory=None) for pid in gpu.pids]

        return running

    module.__dict__.update(
        NVMLError=NVMLError,
        NVML_ERROR_NOT_SUPPORTED=NVML_ERROR_NOT_SUPPORTED,
        NVML_ERROR_NO_PERMISSION=NVML_ERROR_NO_PERMISSION,
        NVML_ERROR_DRIVER_NOT_LOADED=NVML_ERROR_DRIVER_NOT_LOADED,
        NVML_ERROR_LIBRARY_NOT_FOUND=NVML_ERROR_LIBRARY_NOT_FOUND,
        NVML_ERROR_FUNCTION_NOT_FOUND=NVML_ERROR_FUNCTION_NOT_FOUND,
        NVML_ERROR_GPU_IS_LOST=NVML_ERROR_GPU_IS_LOST,
        calls=calls,
        nvmlInit=nvmlInit,
        nvmlShutdown=nvmlShutdown,
        nvmlDeviceGetCount=lambda: len(gpus),
        nvmlDeviceGetHandleByIndex=lambda index: index,
        nvmlDeviceGetName=lambda h: check(h, "nvmlDeviceGetName").name,
        nvmlDeviceGetUUID=lambda h: check(h, "nvmlDeviceGetUUID").uuid,
        nvmlDeviceGetUtilizationRates=lambda h: types.SimpleNamespace(
            gpu=check(h, "nvmlDeviceGetUtilizationRates").util, memory=5
        ),
        nvmlDeviceGetMemoryInfo=lambda h: types.SimpleNamespace(
            used=check(h, "nvmlDeviceGetMemoryInfo").used,
            total=gpus[h].total,
            free=gpus[h].total - gpus[h].used,
        ),
        nvmlDeviceGetPowerUsage=lambda h: check(h, "nvmlDeviceGetPowerUsage").milliwatts,
        nvmlDeviceGetTotalEnergyConsumption=energy,
        nvmlDeviceGetComputeRunningProcesses=processes("nvmlDeviceGetComputeRunningProcesses"),
        nvmlDeviceGetGraphicsRunningProcesses=processes("nvmlDeviceGetGraphicsRunningProcesses"),
    )
    return module
