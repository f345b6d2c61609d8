// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <curl/curl.h>

#include <memory>

/**
 * What every libcurl transfer of Vivarium shares (model calls, provider calls, OAuth, webhook
 * deliveries): owning handles and the one safe baseline of options. Each caller adds only what
 * is its own (method and body, headers, proxy and address pinning, keep-alive).
 */
namespace vivarium::curl {

struct EasyDeleter
{
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct MultiDeleter
{
    void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
/** Header lists carry credentials (Authorization, API keys): wiped before they are freed. */
struct SlistDeleter
{
    void operator()(curl_slist* l) const { wipeAndFree(l); }
    static void wipeAndFree(curl_slist* l);
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

/** curl_global_init once per process; it is not thread-safe and clients start on many threads. */
void globalInit();

struct Baseline
{
    const char* url = nullptr;    ///< must outlive the transfer
    char* errorBuffer = nullptr;  ///< CURL_ERROR_SIZE bytes
    int connectTimeoutMs = 10000; ///< at least 1 ms is enforced
    int totalTimeoutMs = 60000;   ///< at least 1 ms is enforced
    curl_write_callback onHeader = nullptr;
    curl_write_callback onBody = nullptr;
    curl_xferinfo_callback onProgress = nullptr; ///< returns non-zero to abort
    void* user = nullptr;                        ///< passed to the three callbacks
};

/**
 * http and https only, no redirects (a 3xx is the caller's answer, never followed to another
 * host), TLS peer and host verified, no signals (worker threads), bounded connect and total
 * time, loopback never through a proxy, and the caller's callbacks.
 */
void applyBaseline(CURL* e, const Baseline& b);

} // namespace vivarium::curl
