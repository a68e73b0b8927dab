// Node addon: a thin argument-checking layer over the same C the plugin
// links (core.c, ops.c, the filesystem operations of native/fs/, remove.c), so mocha exercises the real C.
#include <napi.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "core/core.h"
#include "jobs/controller.h"
#include "removal/hold.h"
#include "core/ops.h"
#include "removal/remove.h"
#include "util/messages.h"
}

namespace {

ptd_ops g_ops;  // slots for the Node host's real imports
bool g_ops_ready = false;

std::vector<std::string> StringArray(const Napi::Value &v) {
  std::vector<std::string> out;
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "args must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsString()) throw Napi::TypeError::New(v.Env(), "args must be an array of strings");
    out.push_back(e.As<Napi::String>().Utf8Value());
  }
  return out;
}

uint32_t U32(const Napi::CallbackInfo &info, size_t i, const char *what) {
  if (i >= info.Length() || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  return info[i].As<Napi::Number>().Uint32Value();
}

int32_t I32(const Napi::CallbackInfo &info, size_t i, const char *what) {
  if (i >= info.Length() || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

std::string Str(const Napi::CallbackInfo &info, size_t i, const char *what) {
  if (i >= info.Length() || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Object Stats(Napi::Env env, const ptd_remove_stats &s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("bytes", Napi::Number::New(env, (double)s.bytes));
  o.Set("files", Napi::Number::New(env, (double)s.files));
  o.Set("dirs", Napi::Number::New(env, (double)s.dirs));
  o.Set("skipped", Napi::Number::New(env, (double)s.skipped));
  o.Set("marked", Napi::Number::New(env, (double)s.marked));
  o.Set("deferred", Napi::Number::New(env, (double)s.deferred));
  return o;
}

// The JS function coreRun's `before` calls; set only during that call.
Napi::Env *g_before_env = nullptr;
Napi::Function *g_before_fn = nullptr;
bool g_before_threw = false;

// No exception may cross the C and wasm2c frames below: a throwing callback
// is remembered and rethrown once ptd_core_run has returned.
void CallBefore(const char *op) {
  if (!g_before_fn || g_before_threw) return;
  try {
    g_before_fn->Call({Napi::String::New(*g_before_env, op)});
  } catch (const Napi::Error &) {
    g_before_threw = true;
  }
}

// What SET_ENV set, in order: the Node host has no task to give it to.
std::vector<std::pair<std::string, std::string>> g_env;
// As slurmstepd's spank_setenv: without overwrite, a name already set stays.
int CollectEnv(void *ctx, const char *name, const char *value, bool overwrite) {
  (void)ctx;
  for (auto &kv : g_env) {
    if (kv.first != name) continue;
    if (overwrite) kv.second = value;
    return 0;
  }
  g_env.emplace_back(name, value);
  return 0;
}

Napi::Object EnvObject(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  for (auto &kv : g_env) o.Set(kv.first, Napi::String::New(env, kv.second));
  return o;
}

// coreRun(phase, args, jobid, restart, uid, gid, memMb, nodeMemMb, dryRun,
//         trapAt, failBind, before, cores, nodeCores, requestMb) trapAt: true or 1 traps at the first import call, N at the
// Nth (the calls before it are carried out), false or 0 never. before(op):
// called before each import call.
Napi::Value CoreRun(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint32_t phase = U32(info, 0, "phase");
  std::vector<std::string> args = StringArray(info[1]);
  ptd_job job = {};
  job.jobid = U32(info, 2, "jobid");
  job.restart = U32(info, 3, "restart");
  job.uid = U32(info, 4, "uid");
  job.gid = U32(info, 5, "gid");
  job.mem_mb = U32(info, 6, "memMb");
  job.node_mem_mb = U32(info, 7, "nodeMemMb");
  job.set_env = CollectEnv;
  g_env.clear();
  bool dry = info.Length() > 8 && info[8].ToBoolean();
  unsigned trap_at = 0;
  if (info.Length() > 9 && info[9].IsNumber())
    trap_at = info[9].As<Napi::Number>().Uint32Value();
  else if (info.Length() > 9 && info[9].ToBoolean())
    trap_at = 1;
  ptd_bind_test_fail = info.Length() > 10 && info[10].IsNumber() ? info[10].As<Napi::Number>().Int32Value() : 0;
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
  ptd_result res;
  Napi::Function before;
  // The job's cores and the node's (disk= shares): after before, so the
  // callers that plan no disk= leave them out.
  job.cores = info.Length() > 12 && info[12].IsNumber() ? info[12].As<Napi::Number>().Uint32Value() : 0;
  job.node_cores = info.Length() > 13 && info[13].IsNumber() ? info[13].As<Napi::Number>().Uint32Value() : 0;
  job.request_mb = info.Length() > 14 && info[14].IsNumber() ? info[14].As<Napi::Number>().Uint32Value() : 0;
  if (info.Length() > 11 && info[11].IsFunction()) {
    before = info[11].As<Napi::Function>();
    g_before_env = &env;
    g_before_fn = &before;
    g_before_threw = false;
    ptd_core_test_before = CallBefore;
  }
  ptd_core_test_trap_at = trap_at;
  int r = ptd_core_run((ptd_phase)phase, (int)argv.size(), argv.data(), &job, dry, &res);
  ptd_core_test_trap_at = 0;
  ptd_core_test_before = nullptr;
  g_before_fn = nullptr;
  g_before_env = nullptr;
  if (g_before_threw) {
    free(res.trace);
    throw Napi::Error::New(env, "coreRun: the before() callback threw");
  }
  ptd_bind_test_fail = 0;
  Napi::Object o = Napi::Object::New(env);
  o.Set("ok", Napi::Boolean::New(env, r == 0));
  o.Set("code", Napi::String::New(env, r == 0 ? "OK" : res.code));
  o.Set("message", Napi::String::New(env, res.message));
  o.Set("notice", Napi::String::New(env, res.notice));
  o.Set("removed", Stats(env, res.removed));
  o.Set("trace", Napi::String::New(env, res.trace ? res.trace : ""));
  o.Set("env", EnvObject(env));
  free(res.trace);
  return o;
}

// The Node host's real imports: one call per plan operation, on g_ops.
Napi::Value OpsReset(const Napi::CallbackInfo &info) {
  if (g_ops_ready) ptd_ops_done(&g_ops);
  ptd_ops_init(&g_ops, false);
  g_ops.set_env = CollectEnv;
  g_env.clear();
  g_ops_ready = true;
  return info.Env().Undefined();
}

ptd_ops *Ops(Napi::Env env) {
  if (!g_ops_ready) throw Napi::Error::New(env, "opsReset() first");
  return &g_ops;
}

Napi::Value OpsDetail(const Napi::CallbackInfo &info) {
  Napi::Object o = Napi::Object::New(info.Env());
  // The first failed op's reason (ops.c), as native/core/core.c reports it.
  o.Set("text", Napi::String::New(info.Env(), g_ops_ready ? g_ops.failure : ""));
  o.Set("notice", Napi::String::New(info.Env(), g_ops_ready ? g_ops.detail.notice : ""));
  o.Set("removed", Stats(info.Env(), g_ops.removed));
  o.Set("env", EnvObject(info.Env()));
  return o;
}

// summary(jobid, uid, stats, seconds): the plugin's removal line (messages.c).
Napi::Value Summary(const Napi::CallbackInfo &info) {
  if (info.Length() < 3 || !info[2].IsObject()) throw Napi::TypeError::New(info.Env(), "stats must be an object");
  Napi::Object o = info[2].As<Napi::Object>();
  auto field = [&](const char *k) -> uint64_t {
    Napi::Value v = o.Get(k);
    if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string("stats.") + k + " must be a number");
    return (uint64_t)v.As<Napi::Number>().DoubleValue();
  };
  ptd_remove_stats s = {field("bytes"), field("files"), field("dirs"), field("skipped"), field("marked"), 0, 0, 0};
  if (info.Length() < 4 || !info[3].IsNumber()) throw Napi::TypeError::New(info.Env(), "seconds must be a number");
  char line[512];
  ptd_summary(line, sizeof(line), U32(info, 0, "jobid"), U32(info, 1, "uid"), &s, info[3].As<Napi::Number>().DoubleValue(), nullptr);
  return Napi::String::New(info.Env(), line);
}

// failure(what, reason, errno): a failed host operation worded as the
// plugin logs it (messages.c).
Napi::Value Failure(const Napi::CallbackInfo &info) {
  char line[PTD_MESSAGE_MAX];
  ptd_failure(line, sizeof(line), Str(info, 0, "what").c_str(), Str(info, 1, "reason").c_str(), I32(info, 2, "errno"));
  return Napi::String::New(info.Env(), line);
}

#include "ptd_addon_imports.inc"

// The holding place's test knobs (hold.h): what the plugin sets in the
// epilog and in the remover, here set by a test.
std::vector<std::string> g_report;
std::vector<uint32_t> g_running;
bool g_running_set = false;
void CollectReport(const char *line) { g_report.push_back(line); }
// Stands for the plugin's oracle (ended.h): every job not listed as
// running has ended, whenever its directory was made.
bool JobEnded(uint32_t jobid, const struct timespec *made) {
  (void)made;
  for (uint32_t j : g_running)
    if (j == jobid) return false;
  return true;
}

// Stands for the plugin's detached remover: says what it was asked.
int ProbeContinue(int hold_fd, const char *hold_path, int budget) {
  struct stat st;
  if (fstat(hold_fd, &st) < 0) return -errno;
  g_report.push_back("continue " + std::string(hold_path) + " " + std::to_string(budget) + " ino " + std::to_string(st.st_ino));
  return 0;
}

// holdTest({defer?, running?: number[] | null, minAge?, budgetMs?,
// lingerMs?, continueProbe?}): returns and clears
// the lines the remover reported since the last call.
Napi::Value HoldTest(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  ptd_report = CollectReport;
  ptd_report_where = "test";
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    if (o.Has("defer")) ptd_defer_removal = o.Get("defer").ToBoolean();
    if (o.Has("minAge")) ptd_sweep_min_age = o.Get("minAge").As<Napi::Number>().Int32Value();
    if (o.Has("budgetMs")) ptd_drain_budget_ms = o.Get("budgetMs").As<Napi::Number>().Int32Value();
    if (o.Has("lingerMs")) ptd_drain_linger_ms = o.Get("lingerMs").As<Napi::Number>().Int32Value();
    if (o.Has("continueProbe")) ptd_continue = o.Get("continueProbe").ToBoolean() ? ProbeContinue : nullptr;
    if (o.Has("running")) {
      Napi::Value v = o.Get("running");
      g_running.clear();
      g_running_set = v.IsArray();
      if (g_running_set) {
        Napi::Array a = v.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); i++) g_running.push_back(a.Get(i).As<Napi::Number>().Uint32Value());
      }
      ptd_job_ended = g_running_set ? JobEnded : nullptr;
    }
  }
  Napi::Array out = Napi::Array::New(env, g_report.size());
  for (size_t i = 0; i < g_report.size(); i++) out.Set(i, Napi::String::New(env, g_report[i]));
  g_report.clear();
  return out;
}

// ctlJobs(squeue, timeoutMs): the jobs controller.c reads from that
// program's output, {jobs} or {errno, why}: a fake squeue tests what a
// real one cannot be made to print.
Napi::Value CtlJobs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "ctlJobs(squeue, timeoutMs)");
  std::string squeue = info[0].As<Napi::String>();
  ptd_jobset set = {};
  char why[256];
  int r = ptd_ctl_jobs(squeue.c_str(), nullptr, info[1].As<Napi::Number>().Int32Value(), &set, why, sizeof(why));
  Napi::Object out = Napi::Object::New(env);
  if (r < 0) {
    out.Set("errno", Napi::Number::New(env, -r));
    out.Set("why", Napi::String::New(env, why));
    return out;
  }
  Napi::Array jobs = Napi::Array::New(env, set.n);
  for (size_t i = 0; i < set.n; i++) jobs.Set(i, Napi::Number::New(env, set.ids[i]));
  out.Set("jobs", jobs);
  ptd_jobset_free(&set);
  return out;
}

// removeTree(parentDir, name, uid, hook?): hook(name) runs between the
// check and the open of each subdirectory: the window a race would use.
Napi::FunctionReference *g_hook = nullptr;
Napi::Env *g_hook_env = nullptr;

void CallHook(int dirfd, const char *name) {
  (void)dirfd;
  if (g_hook) g_hook->Call({Napi::String::New(*g_hook_env, name)});
}

Napi::Value RemoveTree(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string parent = Str(info, 0, "parent"), name = Str(info, 1, "name");
  uint32_t uid = U32(info, 2, "uid");
  int fd;
  ptd_detail d = {};
  int r = ptd_walk(parent.c_str(), &fd, &d);
  if (r < 0) throw Napi::Error::New(env, "open " + parent + ": " + strerror(-r));
  Napi::FunctionReference ref;
  if (info.Length() > 3 && info[3].IsFunction()) {
    ref = Napi::Persistent(info[3].As<Napi::Function>());
    g_hook = &ref;
    g_hook_env = &env;
    ptd_remove_test_hook = CallHook;
  }
  ptd_remove_stats s = {};
  char detail[256] = "";
  r = ptd_remove_tree(fd, name.c_str(), uid, &s, detail, sizeof(detail));
  ptd_remove_test_hook = nullptr;
  g_hook = nullptr;
  g_hook_env = nullptr;
  close(fd);
  Napi::Object o = Stats(env, s);
  o.Set("errno", Napi::Number::New(env, -r));
  o.Set("detail", Napi::String::New(env, detail));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Never a namespace holder forked out of Node (ops.h).
  ptd_ops_holders = false;
  exports.Set("abiVersion", Napi::Number::New(env, PTD_ABI_VERSION));
  exports.Set("coreRun", Napi::Function::New(env, CoreRun));
  exports.Set("opsReset", Napi::Function::New(env, OpsReset));
  exports.Set("failure", Napi::Function::New(env, Failure));
  exports.Set("summary", Napi::Function::New(env, Summary));
  exports.Set("opsDetail", Napi::Function::New(env, OpsDetail));
  SetImports(env, exports);
  exports.Set("holdTest", Napi::Function::New(env, HoldTest));
  exports.Set("ctlJobs", Napi::Function::New(env, CtlJobs));
  exports.Set("removeTree", Napi::Function::New(env, RemoveTree));
  return exports;
}

}  // namespace

NODE_API_MODULE(ptd_addon, Init)
