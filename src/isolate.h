/* A plugin run in child processes (docs/plugins.md, "Isolation"): the
 * parent never loads the plugin; a child runs the workload and hands its
 * verdict back; a crash, a hang past --timeout or an exit without a verdict
 * becomes the parent's exit-4 verdict, naming where the child was. */
#ifndef SB_ISOLATE_H
#define SB_ISOLATE_H

#include <stddef.h>
#include <sys/types.h>

#include "run.h"

/* First thing in a freshly forked child: die with the parent (SIGKILL when
 * it goes), lead a process group of its own (a timeout kills the plugin's
 * helpers too), and send stdout to stderr (a plugin's printf never reaches
 * the parent's stdout, where --out - writes the verdict). */
void sb_child_setup(pid_t parent);

/* Wait for the child pid, at most timeout_s seconds, without waking up in
 * between (a pidfd where the kernel has one): 0 when it ended (*status as
 * waitpid gives it), 1 when it was still running and has been killed
 * (SIGKILL to its process group) and reaped. */
int sb_child_wait(pid_t pid, double timeout_s, int *status);

/* "SIGSEGV" for SIGSEGV, ...; "signal N" for one without a name here. */
const char *sb_signal_name(int sig, char *buf, size_t len);

/* One step of a workload's run, given the command's context. */
typedef void (*sb_run_step)(sb_run *r, void *ctx);

/* After sb_run_choose_backend for r->plugin's backend: fork; the child
 * binds the plugin, runs work then extras, and sb_run_finish hands the
 * verdict to the parent (r->verdict_fd), which writes it to --out and
 * returns the child's exit code. When the child crashed, hung past
 * --timeout, or ended without a complete verdict, the parent runs extras
 * itself (nothing measured: the run failed) and finishes with exit 4,
 * plugin.failure saying what happened and where. Returns the exit code. */
int sb_run_isolated(sb_run *r, sb_run_step work, sb_run_step extras, void *ctx);

#endif
