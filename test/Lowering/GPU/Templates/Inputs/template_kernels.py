"""Runs kernel templates (lowering/gpu/kernels/*.mlir) on a Vulkan device.

A stand-in for fmc's specializer and Vulkan runtime, so the templates'
arithmetic is tested on its own: each gpu.func is specialized as the
contract in lowering/gpu/kernels/README.md says (scalar arguments become
constants, memref arguments static memrefs of their buffer's size, workgroup
attributions workgroup allocations), lowered by mlir-opt to SPIR-V, checked
by spirv-val, and a whole sequence of dispatches runs in one vkrun process.
"""
import hashlib
import os
import re
import subprocess

import numpy as np

ENV = ('#spirv.target_env<#spirv.vce<v1.3, [Shader, Float16, '
       'StorageBuffer16BitAccess, GroupNonUniform, GroupNonUniformArithmetic, '
       'GroupNonUniformShuffle], [SPV_KHR_16bit_storage, '
       'SPV_KHR_storage_buffer_storage_class]>, '
       '#spirv.resource_limits<subgroup_size = 8>>')
PIPELINE = ('--pass-pipeline=builtin.module(canonicalize,cse,'
            'map-memref-spirv-storage-class,'
            'gpu.module(convert-math-to-spirv),convert-gpu-to-spirv,'
            'spirv.module(spirv-lower-abi-attrs,spirv-update-vce))')
ELEMENT = {np.float32: 'f32', np.int32: 'i32'}


def _braced(text, start):
    """Index just past the brace block opening at or after `start`."""
    depth = 0
    for i in range(text.index('{', start), len(text)):
        if text[i] == '{':
            depth += 1
        elif text[i] == '}':
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError('unbalanced braces')


class Session:
    def __init__(self, template, workdir, vkrun):
        self.source = open(template).read()
        self.workdir = workdir
        self.vkrun = vkrun
        os.makedirs(workdir, exist_ok=True)
        self.modules = {}
        self.arrays = []
        self.lines = []

    def _function(self, name):
        start = self.source.index('gpu.func @' + name + '(')
        return self.source[start:_braced(self.source, self.source.index('kernel {', start))]

    def _specialize(self, name, spec, arrays, wg):
        fn = self._function(name)
        open_paren = len('gpu.func @' + name + '(')
        close_paren = fn.index(')')
        args = [a.strip() for a in fn[open_paren:close_paren].split(',') if a.strip()]
        params, constants, memrefs = [], [], []
        for arg in args:
            arg_name, arg_type = [x.strip() for x in arg.split(':')]
            if arg_type.startswith('memref'):
                array = arrays[len(memrefs)]
                element = arg_type[len('memref<?x'):-1]
                assert ELEMENT[array.dtype.type] == element, (name, arg_name)
                memrefs.append((arg_name, element, array.size))
                params.append(f'{arg_name}: memref<{array.size}x{element}>')
            else:
                value = spec[arg_name[1:]]
                literal = repr(float(value)) if arg_type == 'f32' else str(int(value))
                constants.append(f'    {arg_name} = arith.constant {literal} : {arg_type}')
        assert len(memrefs) == len(arrays), (name, len(memrefs), len(arrays))
        rest = fn[close_paren + 1:]
        body = rest.index('kernel {')
        allocations = ''
        attribution = re.search(r'workgroup\((.*)\)', rest[:body], re.S)
        if attribution:
            for a in re.split(r',\s*(?=%)', attribution.group(1).strip()):
                a_name, a_type = [x.strip() for x in a.split(':', 1)]
                allocations += f'\n    {a_name} = memref.alloc() : {a_type}'
        text = ('gpu.func @%s(%s) kernel attributes {spirv.entry_point_abi = '
                '#spirv.entry_point_abi<workgroup_size = [%d, 1, 1]>} {%s\n%s%s'
                % (name, ', '.join(params), wg, allocations,
                   '\n'.join(constants), rest[body + len('kernel {'):]))
        for arg_name, element, size in memrefs:
            text = re.sub(r'(%s\[[^\]]*\]\s*:\s*)memref<\?x%s>' % (re.escape(arg_name), element),
                          r'\g<1>memref<%dx%s>' % (size, element), text)
        return text.replace('#gpu.address_space<workgroup>', '3')

    def _lower(self, text):
        key = hashlib.sha1(text.encode()).hexdigest()[:16]
        if key in self.modules:
            return self.modules[key]
        base = os.path.join(self.workdir, key)
        module = ('module attributes {gpu.container_module} {\n'
                  'gpu.module @kernels attributes {spirv.target_env = %s} {\n%s\n}\n}\n'
                  % (ENV, text))
        open(base + '.mlir', 'w').write(module)
        lowered = subprocess.run(['mlir-opt', PIPELINE, base + '.mlir'],
                                 capture_output=True, text=True)
        if lowered.returncode:
            raise RuntimeError(lowered.stderr[:4000])
        spirv = lowered.stdout
        start = spirv.index('spirv.module')
        attributes_end = _braced(spirv, start)
        open(base + '.spv.mlir', 'w').write(spirv[start:_braced(spirv, attributes_end)])
        subprocess.run(['mlir-translate', '--no-implicit-module', '--serialize-spirv',
                        base + '.spv.mlir', '-o', base + '.spv'], check=True)
        subprocess.run(['spirv-val', '--target-env', 'vulkan1.2', base + '.spv'], check=True)
        self.modules[key] = base + '.spv'
        return base + '.spv'

    def _buffer(self, array):
        # Views of one array (a.reshape(-1)) are one buffer.
        address = array.__array_interface__['data'][0]
        for i, known in enumerate(self.arrays):
            if known.__array_interface__['data'][0] == address:
                assert known.nbytes == array.nbytes
                return i
        self.arrays.append(array)
        return len(self.arrays) - 1

    def dispatch(self, name, spec, arrays, grid, wg):
        """Records a dispatch of `name`; `arrays` (flat numpy arrays, one per
        memref argument) are the buffers, shared by identity."""
        spv = self._lower(self._specialize(name, spec, arrays, wg))
        ids = [self._buffer(a) for a in arrays]
        self.lines.append('D %s %s %d %d %d %s' % (spv, name, *grid, ' '.join(map(str, ids))))

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
