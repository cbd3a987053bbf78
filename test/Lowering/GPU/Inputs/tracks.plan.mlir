// A plan (fmc-compile starts from plan IR too) of the kernel families that
// fm-to-plan emits only around attention: three parallel tracks' linears as
// one grouped_linear over their stacked weights, their mean
// (track_combine), and a prefill that keeps the last row (last_row) before
// RoPE, the final norm and the logits. Weights: stories260K's.
module {
  fm.tokenizer llama2c "../../../../../shared/models/stories260K/tok512.bin" bos = 1, eos = 2
  fm.param @emb : tensor<512x64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 28, dtype = f32>
  fm.param @q0 : tensor<64x64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 132380, dtype = f32>
  fm.param @q1 : tensor<64x64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 148764, dtype = f32>
  fm.param @q2 : tensor<64x64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 165148, dtype = f32>
  fm.param @q.tracks : tensor<3x64x64xf32> stacks [@q0, @q1, @q2]
  fm.param @norm : tensor<64xf32> from #fm.external<"../../../../../shared/models/stories260K/stories260K.bin", offset = 1039900, dtype = f32>
  plan.program @prefill max_tokens = 16, arena_bytes = 65728 {
    %t = plan.buffer offset = 0 {name = "tokens"} : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 {name = "positions"} : !plan.rows<1, i32>
    %x = plan.buffer offset = 128 : !plan.rows<64, f32>
    %y0 = plan.buffer offset = 4224 : !plan.rows<64, f32>
    %y1 = plan.buffer offset = 8320 : !plan.rows<64, f32>
    %y2 = plan.buffer offset = 12416 : !plan.rows<64, f32>
    %m = plan.buffer offset = 16512 : !plan.rows<64, f32>
    %r = plan.buffer offset = 20608 : !plan.rows<64, f32>
    %rp = plan.buffer offset = 24704 : !plan.rows<1, i32>
    %rr = plan.buffer offset = 24768 : !plan.rows<64, f32>
    %n = plan.buffer offset = 28864 : !plan.rows<64, f32>
    %l = plan.buffer offset = 32960 : !plan.rows<512, f32>
    plan.embedding @emb[%t] -> %x : !plan.rows<1, i32>, !plan.rows<64, f32>
    plan.grouped_linear [%x, %x, %x] -> [%y0, %y1, %y2] weight @q.tracks : !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>
    plan.track_combine mean [%y0, %y1, %y2] -> %m : !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>
    plan.last_row %m, %p -> %r, %rp : !plan.rows<64, f32>, !plan.rows<1, i32>, !plan.rows<64, f32>, !plan.rows<1, i32>
    plan.rope interleaved %r at %rp -> %rr head_dim = 8 rotary_dim = 8 theta = 1.0e+04 : !plan.rows<64, f32>, !plan.rows<1, i32>, !plan.rows<64, f32>
    plan.rms_norm %rr, @norm -> %n eps = 1.0e-05 group_size = 64 : !plan.rows<64, f32>, !plan.rows<64, f32>
    plan.logits %n, @emb -> %l : !plan.rows<64, f32>, !plan.rows<512, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<512, f32>
  }
  plan.program @decode max_tokens = 1, arena_bytes = 3968 {
    %t = plan.buffer offset = 0 {name = "tokens"} : !plan.rows<1, i32>
    %p = plan.buffer offset = 64 {name = "positions"} : !plan.rows<1, i32>
    %x = plan.buffer offset = 128 : !plan.rows<64, f32>
    %y0 = plan.buffer offset = 384 : !plan.rows<64, f32>
    %y1 = plan.buffer offset = 640 : !plan.rows<64, f32>
    %y2 = plan.buffer offset = 896 : !plan.rows<64, f32>
    %m = plan.buffer offset = 1152 : !plan.rows<64, f32>
    %rr = plan.buffer offset = 1408 : !plan.rows<64, f32>
    %n = plan.buffer offset = 1664 : !plan.rows<64, f32>
    %l = plan.buffer offset = 1920 : !plan.rows<512, f32>
    plan.embedding @emb[%t] -> %x : !plan.rows<1, i32>, !plan.rows<64, f32>
    plan.grouped_linear [%x, %x, %x] -> [%y0, %y1, %y2] weight @q.tracks : !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>
    plan.track_combine mean [%y0, %y1, %y2] -> %m : !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>, !plan.rows<64, f32>
    plan.rope interleaved %m at %p -> %rr head_dim = 8 rotary_dim = 8 theta = 1.0e+04 : !plan.rows<64, f32>, !plan.rows<1, i32>, !plan.rows<64, f32>
    plan.rms_norm %rr, @norm -> %n eps = 1.0e-05 group_size = 64 : !plan.rows<64, f32>, !plan.rows<64, f32>
    plan.logits %n, @emb -> %l : !plan.rows<64, f32>, !plan.rows<512, f32>
    plan.io tokens(%t) positions(%p) logits(%l) : !plan.rows<1, i32>, !plan.rows<1, i32>, !plan.rows<512, f32>
  }
}
