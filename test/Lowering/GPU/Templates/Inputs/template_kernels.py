"""Runs kernel templates (lowering/gpu/kernels/*.mlir) on a Vulkan device.

A stand-in for fmc's Vulkan runtime, so the templates' arithmetic is tested
on its own: each dispatch is specialized and lowered to SPIR-V by
fmc-specialize-kernel (the compiler's own specialization and SPIR-V
lowering), and a whole sequence of dispatches runs in one vkrun process over
numpy arrays (one buffer per array; views of one array are one buffer).
"""
import os
import re
import subprocess

import numpy as np


class Session:
    def __init__(self, templates, workdir, vkrun, specializer='fmc-specialize-kernel'):
        # Scalar arguments of each function in order, for naming them; from
        # one template file or a list of them.
        self.scalars = {}
        # The kernels run are specialized from these files too (not the
        # copies built into the compiler): the test runs what it names.
        self.files = [templates] if isinstance(templates, str) else list(templates)
        for template in self.files:
            for name, signature in re.findall(r'gpu\.func @(\w+)\(([^)]*)\)', open(template).read()):
                self.scalars[name] = re.findall(r'%(\w+):\s*(index|f32|i32)\b', signature)
        self.workdir = workdir
        self.vkrun = vkrun
        self.specializer = specializer
        os.makedirs(workdir, exist_ok=True)
        self.modules = {}
        self.arrays = []
        self.lines = []

    def _kernel(self, name, spec, arrays, wg):
        assert set(spec) == {n for n, _ in self.scalars[name]}, (name, sorted(spec))
        values = ','.join('%.9e' % spec[n] if t == 'f32' else str(int(spec[n]))
                          for n, t in self.scalars[name])
        sizes = ','.join(str(a.nbytes) for a in arrays)
        key = (name, values, sizes, wg)
        if key not in self.modules:
            path = os.path.join(self.workdir, 'kernel%d.spv' % len(self.modules))
            entry = subprocess.run([self.specializer, name, str(wg), values, sizes, path,
                                    *self.files],
                                   capture_output=True, text=True)
            if entry.returncode:
                raise RuntimeError(entry.stderr)
            self.modules[key] = (path, entry.stdout.strip())
        return self.modules[key]

    def _buffer(self, array):
        address = array.__array_interface__['data'][0]
        for i, known in enumerate(self.arrays):
            if known.__array_interface__['data'][0] == address:
                assert known.nbytes == array.nbytes
                return i
        self.arrays.append(array)
        return len(self.arrays) - 1

    def dispatch(self, name, spec, arrays, grid, wg):
        """Records a dispatch of template `name`: `spec` its scalar arguments
        by name, `arrays` one flat numpy array
        per memref argument, run by `wg`-thread workgroups over `grid`."""
        path, entry = self._kernel(name, spec, arrays, wg)
        ids = [self._buffer(a) for a in arrays]
        self.lines.append('D %s %s %d %d %d %s' % (path, entry, *grid, ' '.join(map(str, ids))))

    def execute(self):
        """Runs the recorded dispatches in order; arrays get their results."""
        script = [f'B {self.workdir}/buffer{i}' for i in range(len(self.arrays))]
        for i, a in enumerate(self.arrays):
            a.tofile(f'{self.workdir}/buffer{i}')
        open(f'{self.workdir}/script', 'w').write('\n'.join(script + self.lines) + '\n')
        subprocess.run([self.vkrun, f'{self.workdir}/script'], check=True)
        for i, a in enumerate(self.arrays):
            a[...] = np.fromfile(f'{self.workdir}/buffer{i}', dtype=a.dtype)
        self.arrays, self.lines = [], []
