# lit configuration for fmc's regression tests.
import os
import subprocess

import lit.formats

config.name = "fmc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.fmc_obj_root, "test")

# fmc's tools first, then LLVM's FileCheck, not, count, split-file.
config.environment["PATH"] = os.pathsep.join(
    [config.fmc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)

# ../shared (the bundled models) sits beside the checkout.
shared = os.path.normpath(os.path.join(config.fmc_src_root, "..", "shared"))
config.substitutions.append(("%shared", shared))
config.substitutions.append(("%fmc_src", config.fmc_src_root))
# The build's tools, for tests that copy one away from the others.
config.substitutions.append(("%fmc_tools", config.fmc_tools_dir))
# Debian's python3 with numpy, for reference computations and test helpers.
config.substitutions.append(("%python", "/usr/bin/python3"))
if os.path.isdir(os.path.join(shared, "models", "stories260K")):
    config.available_features.add("stories260k")
# llama.cpp's tokenizer test vectors (vocabulary-only GGUF files), for
# fmc-tokenize; the tool itself is found on PATH like the others.
# The quantized GGUF models with reference logits (../shared/models/gguf-quant).
if os.path.isdir(os.path.join(shared, "models", "gguf-quant")):
    config.available_features.add("gguf-quant")
if os.path.isdir(os.path.join(shared, "models", "vocab")):
    config.available_features.add("vocab-vectors")
config.substitutions.append(("%vocab", os.path.join(shared, "models", "vocab")))
# jinja2 (Debian's python3-jinja2, in scripts/setup.sh) renders the real
# chat templates that fmc's chat renderer is compared with.
if subprocess.run(["/usr/bin/python3", "-c", "import jinja2"],
                  capture_output=True).returncode == 0:
    config.available_features.add("jinja2")
# jsonschema (Debian's python3-jsonschema) validates guided generation.
if subprocess.run(["/usr/bin/python3", "-c", "import jsonschema"],
                  capture_output=True).returncode == 0:
    config.available_features.add("jsonschema")
# mpi: libfmc-mpi.so is built and Open MPI's mpirun is here (scripts/setup.sh
# installs both), for track-parallel runs. %mpirun starts N ranks on this
# machine whatever its core count, also as root (CI containers).
import shutil as _shutil
if getattr(config, "fmc_mpi", "").upper() in ("ON", "1", "TRUE", "YES") and \
        _shutil.which("mpirun"):
    config.available_features.add("mpi")
    for name, value in (("OMPI_ALLOW_RUN_AS_ROOT", "1"),
                        ("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1"),
                        ("OMPI_MCA_rmaps_base_oversubscribe", "1")):
        config.environment[name] = value
    config.substitutions.append(("%mpirun", "mpirun --oversubscribe"))
if config.fmc_ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", config.fmc_ptxas))
# vulkan-backend: fmc-run has the vulkan backend; vulkan: and this machine
# has a Vulkan device to run it on (lavapipe counts); vulkan-cpu-only: every
# device is a CPU implementation (--backend auto then runs cpu).
if getattr(config, "fmc_vulkan", "").upper() in ("ON", "1", "TRUE", "YES"):
    import shutil
    import subprocess

    config.available_features.add("vulkan-backend")
    try:
        summary = subprocess.run(
            ["vulkaninfo", "--summary"], capture_output=True, text=True, timeout=120
        ).stdout
        types = [l.split("=")[1].strip() for l in summary.splitlines() if "deviceType" in l]
        if types:
            config.available_features.add("vulkan")
        if types and all(t == "PHYSICAL_DEVICE_TYPE_CPU" for t in types):
            config.available_features.add("vulkan-cpu-only")
    except (OSError, subprocess.TimeoutExpired):
        pass
    # A stand-in vulkan executable added to a cpu artifact (flatc round
    # trip), for fmc-run tests that need no compiled kernels.
    flatc, spirv_as = shutil.which("flatc"), shutil.which("spirv-as")
    if flatc and spirv_as:
        config.available_features.add("vulkan-stand-in")
        config.substitutions.append(("%spirv_as", spirv_as))
        config.substitutions.append(
            (
                "%with_vulkan_executable",
                "/usr/bin/python3 {} --flatc {} --schema {}".format(
                    os.path.join(config.fmc_src_root, "test", "Tools", "Inputs", "with_vulkan_executable.py"),
                    flatc,
                    os.path.join(config.fmc_src_root, "runtime", "schema", "fmc.fbs"),
                ),
            )
        )
# The cuda backend is built (FMC_CUDA), and what this machine has of CUDA:
# the toolkit's stub driver (every entry point, no device), a real driver.
if getattr(config, "fmc_cuda", "").upper() in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("cuda-backend")
# An artifact with a one-kernel cuda executable added (flatc round trip),
# for the cuda backend's tests where fmc-compile or a GPU is missing.
config.substitutions.append((
    "%with_cuda_executable",
    "%s %s --flatc %s --schema %s --ptx %s" % (
        "/usr/bin/python3",
        os.path.join(config.fmc_src_root, "test", "Tools", "Inputs", "with_cuda_executable.py"),
        getattr(config, "fmc_flatc", "flatc"),
        os.path.join(config.fmc_src_root, "runtime", "schema", "fmc.fbs"),
        os.path.join(config.fmc_src_root, "test", "Tools", "Inputs", "cuda-fill.ptx"))))
# An artifact as fmc-compile wrote it before recording its command, options
# and source files (flatc round trip), for fmc-inspect's "not recorded".
config.substitutions.append((
    "%without_provenance",
    "%s %s --flatc %s --schema %s" % (
        "/usr/bin/python3",
        os.path.join(config.fmc_src_root, "test", "Tools", "Inputs", "without_provenance.py"),
        getattr(config, "fmc_flatc", "flatc"),
        os.path.join(config.fmc_src_root, "runtime", "schema", "fmc.fbs"))))
cuda_stub = "/usr/local/cuda/lib64/stubs/libcuda.so"
if os.path.exists(cuda_stub):
    config.available_features.add("cuda-stub")
    config.substitutions.append(("%cuda_stub", cuda_stub))
try:
    import ctypes

    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass
