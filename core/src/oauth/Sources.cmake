# SPDX-License-Identifier: GPL-3.0-or-later
# SPDX-FileCopyrightText: 2026 The Vivarium authors
# Connections and the OAuth 2.0 client (docs/connections.md). HTTP goes through libcurl, as the
# model clients' does: blocking calls usable from the CLI and the engine's worker thread, TLS
# and timeouts configured in one place, redirects never followed. The loopback redirect
# listener uses Qt Network's QTcpServer (it shares the CLI's event loop with stdin).
target_sources(vivarium_core PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/OAuthLogging.cpp
    ${CMAKE_CURRENT_LIST_DIR}/OAuthHttp.cpp
    ${CMAKE_CURRENT_LIST_DIR}/OAuthClient.cpp
    ${CMAKE_CURRENT_LIST_DIR}/LoopbackRedirectListener.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ConnectionTokens.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ConnectionRefresher.cpp
)
