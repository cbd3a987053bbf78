// Diagnostics of fm.moe_route, fm.moe_combine and fm.moe.
// RUN: fmc-opt %s --split-input-file --verify-diagnostics

func.func @f(%l: tensor<?x4xf32>) -> tensor<?x0xf32> {
  // expected-error @+1 {{top_k must be positive, got 0}}
  %w, %i = fm.moe_route softmax %l top_k = 0 : tensor<?x4xf32> -> tensor<?x0xf32>, tensor<?x0xi32>
  return %w : tensor<?x0xf32>
}

// -----

func.func @f(%l: tensor<?x4xf32>) -> tensor<?x5xf32> {
  // expected-error @+1 {{top_k (5) exceeds the 4 experts}}
  %w, %i = fm.moe_route softmax %l top_k = 5 : tensor<?x4xf32> -> tensor<?x5xf32>, tensor<?x5xi32>
  return %w : tensor<?x5xf32>
}

// -----

func.func @f(%l: tensor<?x4xf32>) -> tensor<?x3xf32> {
  // expected-error @+1 {{weights must be [tokens, 2], got 'tensor<?x3xf32>'}}
  %w, %i = fm.moe_route softmax %l top_k = 2 : tensor<?x4xf32> -> tensor<?x3xf32>, tensor<?x2xi32>
  return %w : tensor<?x3xf32>
}

// -----

func.func @f(%l: tensor<?x4xf32>) -> tensor<?x2xf32> {
  // expected-error @+1 {{indices 'tensor<?x1xi32>' must have the shape of weights 'tensor<?x2xf32>'}}
  %w, %i = fm.moe_route sigmoid %l top_k = 2 : tensor<?x4xf32> -> tensor<?x2xf32>, tensor<?x1xi32>
  return %w : tensor<?x2xf32>
}

// -----

func.func @f(%w: tensor<?x2xf32>, %i: tensor<?x3xi32>, %e: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{indices 'tensor<?x3xi32>' must have the shape of weights 'tensor<?x2xf32>'}}
  %y = fm.moe_combine %w, %i [%e, %e] : tensor<?x2xf32>, tensor<?x3xi32>, [tensor<?x8xf32>, tensor<?x8xf32>] -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @f(%w: tensor<?x2xf32>, %i: tensor<?x2xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{needs at least one expert}}
  %y = "fm.moe_combine"(%w, %i) : (tensor<?x2xf32>, tensor<?x2xi32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @f(%w: tensor<?x2xf32>, %i: tensor<?x2xi32>, %e: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{selects 2 experts per token but has 1}}
  %y = fm.moe_combine %w, %i [%e] : tensor<?x2xf32>, tensor<?x2xi32>, [tensor<?x8xf32>] -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @f(%w: tensor<?x2xf32>, %i: tensor<?x2xi32>, %e: tensor<?x8xf32>, %g: tensor<?x4xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{expert 1 has type 'tensor<?x4xf32>', expected 'tensor<?x8xf32>'}}
  %y = fm.moe_combine %w, %i [%e, %g] : tensor<?x2xf32>, tensor<?x2xi32>, [tensor<?x8xf32>, tensor<?x4xf32>] -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @f(%w: tensor<3x2xf32>, %i: tensor<3x2xi32>, %e: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{weights and result must have the same rows}}
  %y = fm.moe_combine %w, %i [%e, %e] : tensor<3x2xf32>, tensor<3x2xi32>, [tensor<4x8xf32>, tensor<4x8xf32>] -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

fm.param @r : tensor<4x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @gu : tensor<4x12x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @d : tensor<4x8x6xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{top_k must be positive, got 0}}
  %y = fm.moe softmax %x router @r gate_up @gu down @d top_k = 0 activation = silu : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

fm.param @r : tensor<4x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @gu : tensor<4x12x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @d : tensor<4x8x6xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{a shared expert needs both shared_gate_up and shared_down}}
  %y = "fm.moe"(%x) <{scoring = #fm<router_scoring softmax>, router = @r, gate_up = @gu, down = @d, top_k = 2 : i64, activation = #fm<activation silu>, shared_gate_up = @gu}> : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

fm.param @r : tensor<4x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @gu : tensor<4x12x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @d : tensor<4x8x6xf32> from <"m", offset = 0, dtype = f32>
fm.param @sg : tensor<1x8xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{shared_gate is given without a shared expert}}
  %y = fm.moe softmax %x router @r gate_up @gu down @d top_k = 2 activation = silu shared_gate @sg : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

fm.param @r : tensor<4x16xf32> from <"m", offset = 0, dtype = f32>
fm.param @gu : tensor<4x12x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @d : tensor<4x8x6xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{router @r has shape [4, 16], expected [?, 8]}}
  %y = fm.moe softmax %x router @r gate_up @gu down @d top_k = 2 activation = silu : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

fm.param @r : tensor<4x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @gu : tensor<4x12x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @d : tensor<4x8x6xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{top_k (6) exceeds the 4 experts}}
  %y = fm.moe softmax %x router @r gate_up @gu down @d top_k = 6 activation = silu : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

fm.param @r : tensor<4x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @gu : tensor<3x12x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @d : tensor<4x8x6xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{gate_up @gu has shape [3, 12, 8], expected [4, ?, 8]}}
  %y = fm.moe softmax %x router @r gate_up @gu down @d top_k = 2 activation = silu : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

fm.param @r : tensor<4x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @gu : tensor<4x11x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @d : tensor<4x8x6xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{gate_up @gu has 11 rows per expert; gate and up need an even count}}
  %y = fm.moe softmax %x router @r gate_up @gu down @d top_k = 2 activation = silu : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// Experts of unequal shape cannot be stacked: the down projection must match
// the gate/up width.
fm.param @r : tensor<4x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @gu : tensor<4x12x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @d : tensor<4x8x7xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{down @d has shape [4, 8, 7], expected [4, 8, 6]}}
  %y = fm.moe softmax %x router @r gate_up @gu down @d top_k = 2 activation = silu : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

fm.param @r : tensor<4x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @gu : tensor<4x12x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @d : tensor<4x8x6xf32> from <"m", offset = 0, dtype = f32>
fm.param @sgu : tensor<9x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @sd : tensor<8x4xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{shared_gate_up @sgu has 9 rows; gate and up need an even count}}
  %y = fm.moe softmax %x router @r gate_up @gu down @d top_k = 2 activation = silu shared(@sgu, @sd) : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

fm.param @r : tensor<4x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @gu : tensor<4x12x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @d : tensor<4x8x6xf32> from <"m", offset = 0, dtype = f32>
fm.param @sgu : tensor<10x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @sd : tensor<8x4xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{shared_down @sd has shape [8, 4], expected [8, 5]}}
  %y = fm.moe softmax %x router @r gate_up @gu down @d top_k = 2 activation = silu shared(@sgu, @sd) : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

fm.param @r : tensor<4x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @gu : tensor<4x12x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @d : tensor<4x8x6xf32> from <"m", offset = 0, dtype = f32>
fm.param @sgu : tensor<10x8xf32> from <"m", offset = 0, dtype = f32>
fm.param @sd : tensor<8x5xf32> from <"m", offset = 0, dtype = f32>
fm.param @sg : tensor<8xf32> from <"m", offset = 0, dtype = f32>
func.func @f(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{shared_gate @sg has shape [8], expected [1, 8]}}
  %y = fm.moe softmax %x router @r gate_up @gu down @d top_k = 2 activation = silu shared(@sgu, @sd) shared_gate @sg : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
