#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "common.h"

int sb_cmd_not_built(int argc, char **argv)
{
    int help = 0;
    for (int i = 1; i < argc; i++)
        help |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
    FILE *f = help ? stdout : stderr;
    fprintf(f, "saebench: '%s' is not built yet in saebench %s (planned: docs/workloads.md describes it; see 'saebench --help')\n",
            argv[0], SB_VERSION);
    return help ? SB_EXIT_PASS : SB_EXIT_USAGE;
}
