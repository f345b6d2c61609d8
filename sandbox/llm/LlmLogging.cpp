// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "LlmLogging.h"

Q_LOGGING_CATEGORY(lcSandboxLlm, "vivarium.sandbox.llm", QtInfoMsg)
