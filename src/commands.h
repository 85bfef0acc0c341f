/* One function per subcommand; main.c's table dispatches to them. Each
 * returns the process exit code (SB_EXIT_*). */
#ifndef SB_COMMANDS_H
#define SB_COMMANDS_H

int sb_cmd_resident_solve(int argc, char **argv);
int sb_cmd_inner_loop(int argc, char **argv);
int sb_cmd_outer_seq(int argc, char **argv);
int sb_cmd_multiplex(int argc, char **argv);
int sb_cmd_encode(int argc, char **argv);
int sb_cmd_shapes(int argc, char **argv);
int sb_cmd_calibrate(int argc, char **argv);
int sb_cmd_report(int argc, char **argv);
int sb_cmd_compare(int argc, char **argv);
int sb_cmd_ab(int argc, char **argv);
/* Workloads and tools not built yet: say so, exit 2. */

#endif
