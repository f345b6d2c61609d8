// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/core/CurlEasy.h"

#include <algorithm>
#include <cstring>
#include <mutex>

namespace vivarium::curl {

void globalInit()
{
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void SlistDeleter::wipeAndFree(curl_slist* l)
{
    for (curl_slist* i = l; i; i = i->next)
        std::memset(i->data, 0, std::strlen(i->data));
    curl_slist_free_all(l);
}

void applyBaseline(CURL* e, const Baseline& b)
{
    curl_easy_setopt(e, CURLOPT_URL, b.url);
#if CURL_AT_LEAST_VERSION(7, 85, 0)
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, long(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, long(std::max(1, b.connectTimeoutMs)));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, long(std::max(1, b.totalTimeoutMs)));
    if (b.errorBuffer)
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, b.errorBuffer);
    if (b.onHeader) {
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, b.onHeader);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, b.user);
    }
    if (b.onBody) {
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, b.onBody);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, b.user);
    }
    if (b.onProgress) {
        curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, b.onProgress);
        curl_easy_setopt(e, CURLOPT_XFERINFODATA, b.user);
        curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    }
}

} // namespace vivarium::curl
