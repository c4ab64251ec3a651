#include "avsl/core/recipe.h"

namespace avsl {
namespace {

Schema MakeRecipeSchema() {
  Schema s("A run: data + method + optimizer + schedule + training + evaluation.");
  s.StringArray("plugins", {}, "plugins this recipe needs; loading fails clearly if one is missing");
  s.OptionalString("name", "run name (default: the recipe file's stem)");
  s.Int("seed", 0, "seed of every random stream (data order, augmentation, initialization)").Min(0);
  s.String("device", "auto", "where to run").OneOf({"auto", "cpu", "cuda"});
  s.Int("threads", 0, "CPU threads for LibTorch; 0 = all available cores").Min(0);
  s.String("amp", "none",
           "mixed precision of the forward pass: none, bf16 autocast (CUDA or CPU), or auto (bf16 autocast + "
           "channels_last where the CPU has AVX512-BF16/AMX-BF16 or on CUDA, fp32 elsewhere; the run log says which)")
      .OneOf({"none", "bf16", "auto"});
  s.Bool("channels_last", false, "convolution weights and image batches in channels_last memory format");
  s.OptionalString("output_dir", "parent of run directories (default: runs/)");

  Schema data("Datasets and the batch loader.");
  data.Component("train", ComponentKind::kDataset, "", "training set");
  data.Component("val", ComponentKind::kDataset, "", "validation set used for model selection");
  data.Component("test", ComponentKind::kDataset, "",
                 "test set (never used for selection unless train.select_on_test)");
  data.Int("batch_size", 32, "samples per batch").Range(1, 1 << 20);
  data.Int("eval_batch_size", 64, "samples per batch at evaluation").Range(1, 1 << 20);
  data.Int("workers", 2, "loader worker threads").Range(0, 256);
  data.Int("prefetch", 4, "batches queued ahead of the trainer").Range(1, 1024);
  data.String("on_error", "error", "a broken sample: stop naming it, or skip and list it in the run log")
      .OneOf({"error", "skip"});
  data.String("shard_tail", "pad",
              "data-parallel runs: an epoch that does not divide among the ranks is padded by repeating its first "
              "samples (torch's DistributedSampler default) or its last samples are dropped")
      .OneOf({"pad", "drop"});
  data.ComponentArray("transforms", ComponentKind::kTransform,
                      "per-sample transforms applied by the loader after each dataset's own pipeline");
  s.Table("data", std::move(data), "datasets and loader");

  s.Component("model", ComponentKind::kMethod, "", "the method (model + loss)");
  s.ComponentArray("losses", ComponentKind::kLoss, "extra loss terms added to the method's loss");
  s.Component("optim", ComponentKind::kOptimizer, "core.Adam", "optimizer");
  s.Component("schedule", ComponentKind::kScheduler, "core.Constant", "learning-rate schedule");

  Schema train("Training loop.");
  train.Int("epochs", 20, "number of epochs").Range(0, 1000000);
  train.Float("grad_clip", 0.0, "clip the global gradient norm to this value; 0 = off").Min(0);
  train.String("select", "early_stop", "checkpoint reported as the result: best on validation or last")
      .OneOf({"early_stop", "last"});
  train.String("monitor", "val.ap",
               "validation metric used for early stopping and best_<metric>; a value tied with the best so far "
               "(within 1e-12) also moves best_<metric> to the later epoch");
  train.Int("val_every", 1, "validate every N epochs").Range(1, 1000000);
  train.Int("log_every", 20, "log every N steps").Range(1, 1000000);
  train
      .Int("save_every_steps", 0,
           "also write checkpoints/last.pt every N optimizer steps within an epoch, so that a run killed without "
           "warning (kill -9, a lost node) resumes at most N steps back; 0: at the end of each epoch only")
      .Range(0, 1000000000);
  train
      .Int("select_from_epoch", 1,
           "the first epoch (numbered from 1) whose validation may become best_<metric>: a two-stage method "
           "selects within its last stage")
      .Range(1, 1000000);
  train
      .Float("dist_timeout_s", 300.0,
             "data-parallel runs: the longest wait for a peer in the rendezvous and in every collective; a rank "
             "that died or hangs makes the others exit with an error naming it after at most this long")
      .Range(1, 86400);
  train.Bool("global_negatives", false,
             "data-parallel runs: contrastive methods take their in-batch negatives from every rank's batch (the "
             "embeddings are all-gathered, gradients flow back to their rank), so N ranks x B see the negatives of "
             "one process x N*B; false: each rank's own batch, as the reference code under DDP");
  train.Bool("sync_bn", false,
             "data-parallel runs: BatchNorm layers of the SDK's encoders normalize with the statistics of the "
             "global batch (as torch.nn.SyncBatchNorm); false: per-process statistics, as the reference code");
  train.Bool("select_on_test", false, "allow model selection on the test split (prints a warning)");
  train.Bool("test_at_end", true, "evaluate the last and the best checkpoint on data.test after training");
  train.StringArray("curve", {},
                    "values the method logs (StepOutput::logs, e.g. \"loss_a2i\") drawn per epoch beside the "
                    "training loss in curve.png; a name the method does not log is a warning in log.txt, a field "
                    "of the train records (step, epoch, samples_per_s, ...) is refused");
  s.Table("train", std::move(train), "training loop");

  Schema eval("Evaluation of localization maps.");
  eval.String("split", "test", "split evaluated by `avsl eval`").OneOf({"val", "test"});
  eval.String("pred_mode", "relative", "relative: per-sample min-max + top-k % rule; absolute: fixed threshold")
      .OneOf({"relative", "absolute"});
  eval.Float("pred_threshold", 0.5, "threshold in absolute mode").Range(0, 1);
  eval.Float("topk_percent", 50.0, "relative mode: percent of pixels kept (50 = the reference rule)").Range(0, 100);
  eval.Float("ciou_threshold", 0.5, "gamma of LocAcc and of a true positive for AP/F1").Range(0, 1);
  eval.String("upsample", "bilinear", "map upsampling to 224x224").OneOf({"bilinear", "bicubic", "nearest"});
  eval.Bool("align_corners", true, "F.interpolate's align_corners (true in both reference test scripts)");
  eval.Int("bootstrap_resamples", 1000,
           "resamples of the test samples behind the 95 % intervals of metrics.json (\"ci95\", seed 0); 0: none")
      .Range(0, 1000000);
  eval.Int("visualize", 16, "heatmap overlays written per evaluation").Range(0, 1000000);
  eval.ComponentArray("metrics", ComponentKind::kMetric, "extra metrics computed from the per-sample records");
  s.Table("eval", std::move(eval), "evaluation");

  s.ComponentArray("hooks", ComponentKind::kHook, "extra trainer hooks");

  // One table per method family, shipped as recipes/<method>/_released_weights.toml (docs/model_zoo.md).
  Schema weights("How a checkpoint its authors released names the method's tensors (avsl eval --weights).");
  weights.String("entry", "",
                 "the dict entry holding the state dict, '/'-separated for nesting (e.g. \"model\"); empty: found "
                 "by name (state_dict, model_state_dict, model, net, ...)");
  weights.StringArray("strip_prefixes", {"module.", "_orig_mod."},
                      "prefixes removed from every key first (DistributedDataParallel/DataParallel's module.)");
  weights.StringArray("rename", {},
                      "\"FROM=TO\": a key starting with FROM gets TO instead (the first match wins), e.g. "
                      "\"imgnet.=image_encoder.\"; an empty FROM prefixes every key not matched before");
  weights.StringArray("ignore", {},
                      "key prefixes of the file that the method has no use for (before rename), e.g. an unused "
                      "classifier \"imgnet.fc.\"");
  weights.StringArray("allow_missing", {},
                      "prefixes of the method's own keys that the file may lack (state avsl adds, e.g. a step "
                      "counter); everything else must load");
  s.Table("weights", std::move(weights), "released weights");
  return s;
}

}  // namespace

const Schema& RecipeSchema() {
  static const Schema* schema = new Schema(MakeRecipeSchema());
  return *schema;
}

}  // namespace avsl
