/*
 * cmd.h: crharness's subcommands, one cmd_<name>.c each, dispatched by the
 * table in main.c. Each gets the command's own argv (argv[0] is its name),
 * parses its options, and returns the process exit code.
 */
#ifndef CRH_CMD_H
#define CRH_CMD_H

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/** `crharness run`: scenarios on backends, reports. */
int cmd_run(int argc, char **argv);
/** `crharness image`: counter image or checkpoint image archives. */
int cmd_image(int argc, char **argv);
/** `crharness inspect`: describe checkpoints. */
int cmd_inspect(int argc, char **argv);
/** `crharness controller`: serve ContainerCheckpoint objects (controller.h). */
int cmd_controller(int argc, char **argv);
/** `crharness cleanup`: remove what killed runs left (runrec.h). */
int cmd_cleanup(int argc, char **argv);

/** `crharness memsearch`: strings or regexes in a checkpoint's memory. */
int cmd_memsearch(int argc, char **argv);

/** `crharness diff`: two checkpoints compared. */
int cmd_diff(int argc, char **argv);
/** `crharness list`: the checkpoints in the usual places or given dirs. */
int cmd_list(int argc, char **argv);

/** Logs "option 'OPT' needs a value" and returns -1 when argv[i] has no value after it. */
int cmd_need_value(int i, int argc, const char *opt);

#endif
