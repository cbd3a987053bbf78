// RUN: fmc-opt %s --split-input-file --verify-diagnostics

// Every verifier message of plan.launch and #plan.binding.

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%a: memref<4xf32>) kernel { gpu.return }
  }
  plan.launch_list @decode scratch_bytes = 0 {
    // expected-error @below {{grid must be three positive sizes}}
    plan.launch @kernels::@k grid [0, 1, 1] source 0 bindings [#plan.binding<arena [0, 16]>]
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%a: memref<4xf32>) kernel { gpu.return }
  }
  plan.launch_list @decode scratch_bytes = 0 {
    // expected-error @below {{grid must be three positive sizes}}
    plan.launch @kernels::@k grid [1, 1] source 0 bindings [#plan.binding<arena [0, 16]>]
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%a: memref<4xf32>) kernel { gpu.return }
  }
  plan.launch_list @decode scratch_bytes = 0 {
    // expected-error @below {{launches @kernels::@missing, which is not a kernel function}}
    plan.launch @kernels::@missing grid [1, 1, 1] source 0 bindings [#plan.binding<arena [0, 16]>]
  }
}

// -----

module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%a: memref<4xf32>) kernel { gpu.return }
  }
  plan.launch_list @decode scratch_bytes = 0 {
    // expected-error @below {{binds 2 buffers to @kernels::@k, which takes 1}}
    plan.launch @kernels::@k grid [1, 1, 1] source 0 bindings [#plan.binding<arena [0, 16]>, #plan.binding<run [0, 16]>]
  }
}

// -----

// expected-error @below {{a binding to weights must name the parameter or cache it reads}}
module attributes {test.b = #plan.binding<weights [0, 16]>} {}

// -----

// expected-error @below {{a binding to arena names no symbol (only weights and caches bindings do)}}
module attributes {test.b = #plan.binding<arena @w [0, 16]>} {}

// -----

// expected-error @below {{binding offset 6 is not a multiple of 4 bytes}}
module attributes {test.b = #plan.binding<scratch [6, 16]>} {}

// -----

module {
  // expected-error @below {{expects parent op 'plan.launch_list'}}
  plan.launch @kernels::@k grid [1, 1, 1] source 0 bindings []
}

// -----

// plan.collective_launch: inputs, then as many outputs, all in the arena,
// each output as large as its input.
plan.launch_list @decode scratch_bytes = 0 {
  // expected-error @below {{binds 3 buffers; an all-reduce binds its inputs, then as many outputs}}
  plan.collective_launch source 0 bindings [#plan.binding<arena [0, 16]>, #plan.binding<arena [16, 16]>, #plan.binding<arena [32, 16]>]
}

// -----

plan.launch_list @decode scratch_bytes = 0 {
  // expected-error @below {{binds 0 buffers}}
  plan.collective_launch source 0 bindings []
}

// -----

plan.launch_list @decode scratch_bytes = 0 {
  // expected-error @below {{binding 1 is not in the arena: collectives exchange activations only}}
  plan.collective_launch source 0 bindings [#plan.binding<arena [0, 16]>, #plan.binding<scratch [0, 16]>]
}

// -----

plan.launch_list @decode scratch_bytes = 0 {
  // expected-error @below {{binding 0 holds 6 bytes, not whole f32 values}}
  plan.collective_launch source 0 bindings [#plan.binding<arena [0, 6]>, #plan.binding<arena [16, 6]>]
}

// -----

plan.launch_list @decode scratch_bytes = 0 {
  // expected-error @below {{output 0 holds 8 bytes, its input 16}}
  plan.collective_launch source 0 bindings [#plan.binding<arena [0, 16]>, #plan.binding<arena [16, 8]>]
}
