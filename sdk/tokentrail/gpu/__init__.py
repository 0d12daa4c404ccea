"""GPU figures for tokentrail: a background NVML sampler, GPU figures on model-call spans, GPU gauges.

Started by `tokentrail.init(gpu=...)` (on by default where pynvml and a GPU are present), or used
on its own:

    from tokentrail.gpu import GpuSampler

    with GpuSampler(interval_s=0.1) as sampler:
        start = time.time_ns()
        run_model()
        figures = sampler.window(start, time.time_ns())

A figure that is unknown (no such reading on the device, or the call failed) is None, never 0.
`tokentrail.gpu.testing` has a fake NVML for tests.
"""

from tokentrail.gpu._figures import GpuFigures
from tokentrail.gpu._nvml import GpuUnavailable, Nvml, RealNvml
from tokentrail.gpu._options import GpuOptions
from tokentrail.gpu._sampler import GpuSampler, SamplerStats
from tokentrail.gpu._samples import DeviceReading, GpuDevice, Sample

__all__ = [
    "DeviceReading",
    "GpuDevice",
    "GpuFigures",
    "GpuOptions",
    "GpuSampler",
    "GpuUnavailable",
    "Nvml",
    "RealNvml",
    "Sample",
    "SamplerStats",
]
