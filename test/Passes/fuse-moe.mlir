// RUN: fmc-opt %s --split-input-file --fm-fuse-moe 2>/dev/null | FileCheck %s
// RUN: fmc-opt %s --split-input-file --fm-fuse-moe 2>&1 >/dev/null | FileCheck %s --check-prefix=DIAG
// RUN: fmc-opt %s --split-input-file --fm-fuse-moe --fm-fuse-moe --fm-drop-dead-params 2>/dev/null | FileCheck %s --check-prefix=DROP

// Two experts, top-1, softmax without renormalization: the router, route,
// expert chains and combine become one fm.moe over two stacks whose parts
// are the experts' own parameters (gate rows then up rows per expert).
// CHECK-LABEL: module
// CHECK: fm.param @l.experts.1.up : tensor<2x4xf32>
// CHECK-NEXT: fm.param @l.experts.gate_up : tensor<2x4x4xf32> stacks [@l.experts.0.gate, @l.experts.0.up, @l.experts.1.gate, @l.experts.1.up]
// CHECK-NEXT: fm.param @l.experts.1.down : tensor<4x2xf32>
// CHECK-NEXT: fm.param @l.experts.down : tensor<2x4x2xf32> stacks [@l.experts.0.down, @l.experts.1.down]
// CHECK: func.func @f(%[[X:.*]]: tensor<?x4xf32>)
// CHECK-NEXT: %[[Y:.*]] = fm.moe softmax %[[X]] router @l.router gate_up @l.experts.gate_up down @l.experts.down top_k = 1 activation = silu : tensor<?x4xf32>
// CHECK-NEXT: return %[[Y]]
// The parts survive fm-drop-dead-params (a live stack names them); running
// the pass twice changes nothing more.
// DROP-LABEL: module
// DROP: fm.param @l.router
// DROP: fm.param @l.experts.0.gate
// DROP: fm.param @l.experts.gate_up
// DROP: fm.param @l.experts.1.down
// DROP-NOT: fm.param @l.experts.gate_up.1
// DROP: fm.moe softmax
fm.param @l.router : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @l.experts.0.gate : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @l.experts.0.up : tensor<2x4xf32> from <"m", offset = 32, dtype = f32>
fm.param @l.experts.0.down : tensor<4x2xf32> from <"m", offset = 64, dtype = f32>
fm.param @l.experts.1.gate : tensor<2x4xf32> from <"m", offset = 96, dtype = f32>
fm.param @l.experts.1.up : tensor<2x4xf32> from <"m", offset = 128, dtype = f32>
fm.param @l.experts.1.down : tensor<4x2xf32> from <"m", offset = 160, dtype = f32>
func.func @f(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = fm.linear %x, @l.router : tensor<?x4xf32> -> tensor<?x2xf32>
  %w, %i = fm.moe_route softmax %r top_k = 1 : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  %g0 = fm.linear %x, @l.experts.0.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u0 = fm.linear %x, @l.experts.0.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s0 = fm.glu silu %g0, %u0 : tensor<?x2xf32>
  %d0 = fm.linear %s0, @l.experts.0.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %g1 = fm.linear %x, @l.experts.1.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u1 = fm.linear %x, @l.experts.1.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s1 = fm.glu silu %g1, %u1 : tensor<?x2xf32>
  %d1 = fm.linear %s1, @l.experts.1.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %y = fm.moe_combine %w, %i [%d0, %d1] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x4xf32>, tensor<?x4xf32>] -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// Sigmoid top-2 with renormalization and a Qwen2-MoE shared expert scaled by
// sigmoid(x W_g^T): one fm.moe carries all of it; the residual add stays.
// CHECK-LABEL: module
// CHECK: fm.param @e.gate_up : tensor<2x4x4xf32> stacks [@e.0.gate, @e.0.up, @e.1.gate, @e.1.up]
// CHECK: fm.param @e.down : tensor<2x4x2xf32> stacks [@e.0.down, @e.1.down]
// CHECK: fm.param @sh.gate_up : tensor<6x4xf32> stacks [@sh.gate, @sh.up]
// CHECK: func.func @f(%[[X:.*]]: tensor<?x4xf32>)
// CHECK-NEXT: %[[Y:.*]] = fm.moe sigmoid %[[X]] router @router gate_up @e.gate_up down @e.down top_k = 2 activation = gelu_tanh shared(@sh.gate_up, @sh.down) shared_gate @sh.g {norm_topk_prob = true} : tensor<?x4xf32>
// CHECK-NEXT: %[[H:.*]] = fm.add %[[X]], %[[Y]]
// CHECK-NEXT: return %[[H]]
fm.param @router : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.gate : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.up : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.down : tensor<4x2xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.1.gate : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.1.up : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.1.down : tensor<4x2xf32> from <"m", offset = 0, dtype = f32>
fm.param @sh.gate : tensor<3x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @sh.up : tensor<3x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @sh.down : tensor<4x3xf32> from <"m", offset = 0, dtype = f32>
fm.param @sh.g : tensor<1x4xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = fm.linear %x, @router : tensor<?x4xf32> -> tensor<?x2xf32>
  %w, %i = fm.moe_route sigmoid %r top_k = 2 {norm_topk_prob = true} : tensor<?x2xf32> -> tensor<?x2xf32>, tensor<?x2xi32>
  %g0 = fm.linear %x, @e.0.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u0 = fm.linear %x, @e.0.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s0 = fm.glu gelu_tanh %g0, %u0 : tensor<?x2xf32>
  %d0 = fm.linear %s0, @e.0.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %g1 = fm.linear %x, @e.1.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u1 = fm.linear %x, @e.1.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s1 = fm.glu gelu_tanh %g1, %u1 : tensor<?x2xf32>
  %d1 = fm.linear %s1, @e.1.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %m = fm.moe_combine %w, %i [%d0, %d1] : tensor<?x2xf32>, tensor<?x2xi32>, [tensor<?x4xf32>, tensor<?x4xf32>] -> tensor<?x4xf32>
  %sg = fm.linear %x, @sh.gate : tensor<?x4xf32> -> tensor<?x3xf32>
  %su = fm.linear %x, @sh.up : tensor<?x4xf32> -> tensor<?x3xf32>
  %ss = fm.glu gelu_tanh %sg, %su : tensor<?x3xf32>
  %sd = fm.linear %ss, @sh.down : tensor<?x3xf32> -> tensor<?x4xf32>
  %gl = fm.linear %x, @sh.g : tensor<?x4xf32> -> tensor<?x1xf32>
  %gs = fm.activation sigmoid %gl : tensor<?x1xf32>
  %sx = fm.mul %sd, %gs : tensor<?x4xf32>, tensor<?x1xf32>
  %f = fm.add %sx, %m : tensor<?x4xf32>
  %h = fm.add %x, %f : tensor<?x4xf32>
  return %h : tensor<?x4xf32>
}

// -----

// A shared expert without a gate (Llama 4-style sum) folds too; one whose
// activation differs from the experts' does not (fm.moe has one). The two
// MoEs share their experts, so they share the stacks.
// CHECK-LABEL: module
// CHECK-NOT: @e.gate_up.1
// CHECK: func.func @ungated(%[[X:.*]]: tensor<?x4xf32>)
// CHECK-NEXT: fm.moe softmax %[[X]] router @router gate_up @e.gate_up down @e.down top_k = 1 activation = silu shared(@sh.gate_up, @sh.down) : tensor<?x4xf32>
// CHECK-NEXT: return
// CHECK: func.func @other_activation(%[[X2:.*]]: tensor<?x4xf32>)
// CHECK: %[[M:.*]] = fm.moe softmax %[[X2]] router @router gate_up @e.gate_up down @e.down top_k = 1 activation = silu : tensor<?x4xf32>
// CHECK: fm.glu gelu
// CHECK: fm.add %[[M]]
fm.param @router : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.gate : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.up : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.down : tensor<4x2xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.1.gate : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.1.up : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.1.down : tensor<4x2xf32> from <"m", offset = 0, dtype = f32>
fm.param @sh.gate : tensor<3x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @sh.up : tensor<3x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @sh.down : tensor<4x3xf32> from <"m", offset = 0, dtype = f32>
func.func @ungated(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = fm.linear %x, @router : tensor<?x4xf32> -> tensor<?x2xf32>
  %w, %i = fm.moe_route softmax %r top_k = 1 : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  %g0 = fm.linear %x, @e.0.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u0 = fm.linear %x, @e.0.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s0 = fm.glu silu %g0, %u0 : tensor<?x2xf32>
  %d0 = fm.linear %s0, @e.0.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %g1 = fm.linear %x, @e.1.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u1 = fm.linear %x, @e.1.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s1 = fm.glu silu %g1, %u1 : tensor<?x2xf32>
  %d1 = fm.linear %s1, @e.1.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %m = fm.moe_combine %w, %i [%d0, %d1] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x4xf32>, tensor<?x4xf32>] -> tensor<?x4xf32>
  %sg = fm.linear %x, @sh.gate : tensor<?x4xf32> -> tensor<?x3xf32>
  %su = fm.linear %x, @sh.up : tensor<?x4xf32> -> tensor<?x3xf32>
  %ss = fm.glu silu %sg, %su : tensor<?x3xf32>
  %sd = fm.linear %ss, @sh.down : tensor<?x3xf32> -> tensor<?x4xf32>
  %f = fm.add %m, %sd : tensor<?x4xf32>
  return %f : tensor<?x4xf32>
}
func.func @other_activation(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = fm.linear %x, @router : tensor<?x4xf32> -> tensor<?x2xf32>
  %w, %i = fm.moe_route softmax %r top_k = 1 : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  %g0 = fm.linear %x, @e.0.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u0 = fm.linear %x, @e.0.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s0 = fm.glu silu %g0, %u0 : tensor<?x2xf32>
  %d0 = fm.linear %s0, @e.0.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %g1 = fm.linear %x, @e.1.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u1 = fm.linear %x, @e.1.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s1 = fm.glu silu %g1, %u1 : tensor<?x2xf32>
  %d1 = fm.linear %s1, @e.1.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %m = fm.moe_combine %w, %i [%d0, %d1] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x4xf32>, tensor<?x4xf32>] -> tensor<?x4xf32>
  %sg = fm.linear %x, @sh.gate : tensor<?x4xf32> -> tensor<?x3xf32>
  %su = fm.linear %x, @sh.up : tensor<?x4xf32> -> tensor<?x3xf32>
  %ss = fm.glu gelu %sg, %su : tensor<?x3xf32>
  %sd = fm.linear %ss, @sh.down : tensor<?x3xf32> -> tensor<?x4xf32>
  %f = fm.add %m, %sd : tensor<?x4xf32>
  return %f : tensor<?x4xf32>
}

// -----

// Llama 4 runs its experts on the input scaled by the routing weight: not
// fm.moe's form, so the MoE stays expert by expert, with a remark.
// CHECK-LABEL: module
// DIAG: remark: fm-fuse-moe: left unfused: expert 0 reads another value than the router's input (fm.moe runs experts on the router input)
// CHECK: fm.moe_combine
// CHECK-NOT: fm.moe softmax
fm.param @router : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.gate : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.up : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.down : tensor<4x2xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.1.gate : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.1.up : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.1.down : tensor<4x2xf32> from <"m", offset = 0, dtype = f32>
func.func @llama4(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = fm.linear %x, @router : tensor<?x4xf32> -> tensor<?x2xf32>
  %sw, %si = fm.moe_route sigmoid %r top_k = 1 : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  %xs = fm.mul %x, %sw : tensor<?x4xf32>, tensor<?x1xf32>
  %w, %i = fm.moe_route softmax %r top_k = 1 {norm_topk_prob = true} : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  %g0 = fm.linear %xs, @e.0.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u0 = fm.linear %xs, @e.0.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s0 = fm.glu silu %g0, %u0 : tensor<?x2xf32>
  %d0 = fm.linear %s0, @e.0.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %g1 = fm.linear %xs, @e.1.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u1 = fm.linear %xs, @e.1.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s1 = fm.glu silu %g1, %u1 : tensor<?x2xf32>
  %d1 = fm.linear %s1, @e.1.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %m = fm.moe_combine %w, %i [%d0, %d1] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x4xf32>, tensor<?x4xf32>] -> tensor<?x4xf32>
  return %m : tensor<?x4xf32>
}

// -----

// Experts of unequal shape or activation: a warning each, left unfused.
// CHECK-LABEL: module
// DIAG: warning: fm-fuse-moe: left unfused: expert 1's gate weight @e.1.gate is 3x4 but expert 0's is 2x4
// DIAG: warning: fm-fuse-moe: left unfused: expert 1 uses gelu but expert 0 uses silu
// CHECK-NOT: fm.moe softmax
fm.param @router : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.gate : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.up : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.down : tensor<4x2xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.1.gate : tensor<3x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.1.up : tensor<3x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.1.down : tensor<4x3xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.2.gate : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.2.up : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
func.func @shapes(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = fm.linear %x, @router : tensor<?x4xf32> -> tensor<?x2xf32>
  %w, %i = fm.moe_route softmax %r top_k = 1 : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  %g0 = fm.linear %x, @e.0.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u0 = fm.linear %x, @e.0.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s0 = fm.glu silu %g0, %u0 : tensor<?x2xf32>
  %d0 = fm.linear %s0, @e.0.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %g1 = fm.linear %x, @e.1.gate : tensor<?x4xf32> -> tensor<?x3xf32>
  %u1 = fm.linear %x, @e.1.up : tensor<?x4xf32> -> tensor<?x3xf32>
  %s1 = fm.glu silu %g1, %u1 : tensor<?x3xf32>
  %d1 = fm.linear %s1, @e.1.down : tensor<?x3xf32> -> tensor<?x4xf32>
  %m = fm.moe_combine %w, %i [%d0, %d1] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x4xf32>, tensor<?x4xf32>] -> tensor<?x4xf32>
  return %m : tensor<?x4xf32>
}
func.func @activations(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = fm.linear %x, @router : tensor<?x4xf32> -> tensor<?x2xf32>
  %w, %i = fm.moe_route softmax %r top_k = 1 : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  %g0 = fm.linear %x, @e.0.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u0 = fm.linear %x, @e.0.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s0 = fm.glu silu %g0, %u0 : tensor<?x2xf32>
  %d0 = fm.linear %s0, @e.0.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %g1 = fm.linear %x, @e.2.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u1 = fm.linear %x, @e.2.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s1 = fm.glu gelu %g1, %u1 : tensor<?x2xf32>
  %d1 = fm.linear %s1, @e.0.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %m = fm.moe_combine %w, %i [%d0, %d1] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x4xf32>, tensor<?x4xf32>] -> tensor<?x4xf32>
  return %m : tensor<?x4xf32>
}

// -----

// Quantized expert weights cannot be stack parts: left unfused, a remark.
// CHECK-LABEL: module
// DIAG: remark: fm-fuse-moe: left unfused: expert 0: its weight @e.0.gate is not a dense f32, f16 or bf16 parameter stored in a file
// CHECK-NOT: fm.moe softmax
fm.param @router : tensor<1x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.gate : tensor<32x32xf32> from <"m", offset = 0, dtype = q8_0>
fm.param @e.0.up : tensor<32x32xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.down : tensor<32x32xf32> from <"m", offset = 0, dtype = f32>
func.func @quantized(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %r = fm.linear %x, @router : tensor<?x32xf32> -> tensor<?x1xf32>
  %w, %i = fm.moe_route softmax %r top_k = 1 : tensor<?x1xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  %g0 = fm.linear %x, @e.0.gate : tensor<?x32xf32> -> tensor<?x32xf32>
  %u0 = fm.linear %x, @e.0.up : tensor<?x32xf32> -> tensor<?x32xf32>
  %s0 = fm.glu silu %g0, %u0 : tensor<?x32xf32>
  %d0 = fm.linear %s0, @e.0.down : tensor<?x32xf32> -> tensor<?x32xf32>
  %m = fm.moe_combine %w, %i [%d0] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x32xf32>] -> tensor<?x32xf32>
  return %m : tensor<?x32xf32>
}

// -----

// Forms fm.moe does not express stay unfused, each with a remark.
// DIAG: remark: fm-fuse-moe: left unfused: its weights and indices do not come from one fm.moe_route
// DIAG: remark: fm-fuse-moe: left unfused: expert 1 is not a gated FFN (linear, linear, glu, linear without biases)
// DIAG: remark: fm-fuse-moe: left unfused: expert 1's weights are stored unlike expert 0's
// DIAG: remark: fm-fuse-moe: left unfused: expert 0: its weights @e.0.gate and @e.0.down16 are stored differently
// CHECK-LABEL: module
// CHECK-NOT: fm.moe softmax
fm.param @router : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.gate : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.up : tensor<2x4xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.down : tensor<4x2xf32> from <"m", offset = 0, dtype = f32>
fm.param @e.0.down16 : tensor<4x2xf32> from <"m", offset = 0, dtype = f16>
fm.param @e.1.gate : tensor<2x4xf32> from <"m", offset = 0, dtype = bf16>
fm.param @e.1.up : tensor<2x4xf32> from <"m", offset = 0, dtype = bf16>
fm.param @e.1.down : tensor<4x2xf32> from <"m", offset = 0, dtype = bf16>
func.func @not_routed(%x: tensor<?x4xf32>, %w: tensor<?x1xf32>, %i: tensor<?x1xi32>) -> tensor<?x4xf32> {
  %m = fm.moe_combine %w, %i [%x, %x] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x4xf32>, tensor<?x4xf32>] -> tensor<?x4xf32>
  return %m : tensor<?x4xf32>
}
func.func @not_gated(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = fm.linear %x, @router : tensor<?x4xf32> -> tensor<?x2xf32>
  %w, %i = fm.moe_route softmax %r top_k = 1 : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  %g0 = fm.linear %x, @e.0.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u0 = fm.linear %x, @e.0.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s0 = fm.glu silu %g0, %u0 : tensor<?x2xf32>
  %d0 = fm.linear %s0, @e.0.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %a1 = fm.activation silu %u0 : tensor<?x2xf32>
  %d1 = fm.linear %a1, @e.0.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %m = fm.moe_combine %w, %i [%d0, %d1] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x4xf32>, tensor<?x4xf32>] -> tensor<?x4xf32>
  return %m : tensor<?x4xf32>
}
func.func @mixed_experts(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = fm.linear %x, @router : tensor<?x4xf32> -> tensor<?x2xf32>
  %w, %i = fm.moe_route softmax %r top_k = 1 : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  %g0 = fm.linear %x, @e.0.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u0 = fm.linear %x, @e.0.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s0 = fm.glu silu %g0, %u0 : tensor<?x2xf32>
  %d0 = fm.linear %s0, @e.0.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %g1 = fm.linear %x, @e.1.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u1 = fm.linear %x, @e.1.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s1 = fm.glu silu %g1, %u1 : tensor<?x2xf32>
  %d1 = fm.linear %s1, @e.1.down : tensor<?x2xf32> -> tensor<?x4xf32>
  %m = fm.moe_combine %w, %i [%d0, %d1] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x4xf32>, tensor<?x4xf32>] -> tensor<?x4xf32>
  return %m : tensor<?x4xf32>
}
func.func @mixed_within(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = fm.linear %x, @router : tensor<?x4xf32> -> tensor<?x2xf32>
  %w, %i = fm.moe_route softmax %r top_k = 1 : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi32>
  %g0 = fm.linear %x, @e.0.gate : tensor<?x4xf32> -> tensor<?x2xf32>
  %u0 = fm.linear %x, @e.0.up : tensor<?x4xf32> -> tensor<?x2xf32>
  %s0 = fm.glu silu %g0, %u0 : tensor<?x2xf32>
  %d0 = fm.linear %s0, @e.0.down16 : tensor<?x2xf32> -> tensor<?x4xf32>
  %m = fm.moe_combine %w, %i [%d0, %d0] : tensor<?x1xf32>, tensor<?x1xi32>, [tensor<?x4xf32>, tensor<?x4xf32>] -> tensor<?x4xf32>
  return %m : tensor<?x4xf32>
}
