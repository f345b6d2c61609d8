// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The agent loop arrives with the run issue; until then the runner only identifies itself so
// the supervisor and packaging can already find and start it.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv)
{
    if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
        std::printf("vivarium-runner %s\n", VIVARIUM_VERSION);
        return 0;
    }
    std::fprintf(stderr, "vivarium-runner: the agent loop is not part of this build yet\n");
    return 2;
}
