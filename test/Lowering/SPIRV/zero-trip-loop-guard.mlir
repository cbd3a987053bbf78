// fmc-guard-zero-trip-loops (SPIR-V lowering, llvm-project #211981): an
// scf.for with results whose trip count may be zero is wrapped in
// scf.if (lb < ub) that yields the initial values otherwise; loops known to
// run, and loops without results, are left alone.
// RUN: fmc-opt %s --fmc-guard-zero-trip-loops --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @lane_strided
// CHECK-SAME: (%[[LANE:.*]]: index, %[[INIT:.*]]: f32)
// CHECK: %[[RUNS:.*]] = arith.cmpi slt, %[[LANE]], %[[N:.*]] : index
// CHECK: %[[R:.*]] = scf.if %[[RUNS]] -> (f32) {
// CHECK:   %[[L:.*]] = scf.for %{{.*}} = %[[LANE]] to %[[N]] step %{{.*}} iter_args(%{{.*}} = %[[INIT]]) -> (f32) {
// CHECK:   } {fmc.trip_guarded}
// CHECK:   scf.yield %[[L]] : f32
// CHECK: } else {
// CHECK:   scf.yield %[[INIT]] : f32
// CHECK: }
// CHECK: return %[[R]]
func.func @lane_strided(%lane: index, %init: f32) -> f32 {
  %n = arith.constant 3 : index
  %step = arith.constant 32 : index
  %r = scf.for %i = %lane to %n step %step iter_args(%acc = %init) -> f32 {
    %s = arith.addf %acc, %acc : f32
    scf.yield %s : f32
  }
  return %r : f32
}

// -----

// Constant bounds with at least one iteration: no guard.
// CHECK-LABEL: func.func @static_trip
// CHECK-NOT: scf.if
// CHECK: scf.for
func.func @static_trip(%init: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c1 = arith.constant 1 : index
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> f32 {
    %s = arith.addf %acc, %acc : f32
    scf.yield %s : f32
  }
  return %r : f32
}

// -----

// No results: nothing can be lost.
// CHECK-LABEL: func.func @no_results
// CHECK-NOT: scf.if
func.func @no_results(%lane: index, %m: memref<4xf32>, %v: f32) {
  %n = arith.constant 3 : index
  %step = arith.constant 32 : index
  scf.for %i = %lane to %n step %step {
    memref.store %v, %m[%i] : memref<4xf32>
  }
  return
}
