# lit configuration for fmc's regression tests.
import os

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
# Debian's python3 with numpy, for reference computations and test helpers.
config.substitutions.append(("%python", "/usr/bin/python3"))
if os.path.isdir(os.path.join(shared, "models", "stories260K")):
    config.available_features.add("stories260k")
if config.fmc_ptxas:
    config.available_features.add("ptxas")
# vulkan-backend: fmc-run has the vulkan backend; vulkan: and this machine
# has a Vulkan device to run it on (lavapipe counts).
if getattr(config, "fmc_vulkan", "").upper() in ("ON", "1", "TRUE", "YES"):
    import subprocess

    config.available_features.add("vulkan-backend")
    try:
        summary = subprocess.run(
            ["vulkaninfo", "--summary"], capture_output=True, text=True, timeout=120
        ).stdout
        if "deviceName" in summary:
            config.available_features.add("vulkan")
    except (OSError, subprocess.TimeoutExpired):
        pass
