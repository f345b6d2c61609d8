// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "WebhookHttp.h"

#include <QElapsedTimer>

#include "vivarium/core/CurlEasy.h"

#include <memory>

namespace vivarium::webhookhttp {

namespace {

constexpr qsizetype ExcerptBytes = 512;

struct Transfer
{
    const std::atomic<bool>* cancel = nullptr;
    Response* response = nullptr;
};

size_t onBody(char* data, size_t size, size_t count, void* user)
{
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    QByteArray& excerpt = t->response->bodyExcerpt;
    if (excerpt.size() < ExcerptBytes)
        excerpt.append(data, qMin(qsizetype(n), ExcerptBytes - excerpt.size()));
    return n; // the rest is read and dropped; the total timeout bounds a endless answer
}

size_t onHeader(char* data, size_t size, size_t count, void* user)
{
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    const QByteArray line = QByteArray(data, qsizetype(n)).trimmed();
    // A new status line (after 1xx) starts a new header block.
    if (line.startsWith("HTTP/")) {
        t->response->retryAfter.clear();
        t->response->location.clear();
        return n;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon <= 0)
        return n;
    const QByteArray name = line.left(colon).trimmed().toLower();
    if (name == "retry-after")
        t->response->retryAfter = line.mid(colon + 1).trimmed().left(64);
    else if (name == "location")
        t->response->location = line.mid(colon + 1).trimmed().left(512);
    return n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    auto* t = static_cast<Transfer*>(user);
    return t->cancel->load() ? 1 : 0;
}

} // namespace

Response post(const Request& request, const std::atomic<bool>& cancel)
{
    curl::globalInit();
    Response response;
    QElapsedTimer clock;
    clock.start();
    curl::EasyPtr easy(curl_easy_init());
    if (!easy) {
        response.error = QStringLiteral("cannot initialise libcurl");
        return response;
    }
    curl_slist* list = nullptr;
    for (const QByteArray& h : request.headers) {
        curl_slist* next = curl_slist_append(list, h.constData());
        if (!next) {
            curl_slist_free_all(list);
            response.error = QStringLiteral("out of memory building headers");
            return response;
        }
        list = next;
    }
    const curl::SlistPtr headers(list);
    char errorText[CURL_ERROR_SIZE] = {};
    Transfer transfer{&cancel, &response};
    const QByteArray url = request.url.toUtf8();
    CURL* c = easy.get();
    // The baseline never sends loopback through a proxy: n8n often listens on this host.
    curl::applyBaseline(c, {url.constData(), errorText, request.connectTimeoutMs,
                            request.totalTimeoutMs, &onHeader, &onBody, &onProgress, &transfer});
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.constData());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.size()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

    const CURLcode rc = curl_easy_perform(c);
    response.durationMs = clock.elapsed();
    if (rc != CURLE_OK) {
        response.status = 0;
        response.cancelled = rc == CURLE_ABORTED_BY_CALLBACK;
        response.timedOut = rc == CURLE_OPERATION_TIMEDOUT;
        if (response.cancelled)
            response.error = QStringLiteral("aborted: the engine is stopping");
        else if (response.timedOut)
            response.error = QStringLiteral("timed out after %1 ms").arg(response.durationMs);
        else
            response.error = QString::fromUtf8(errorText[0] ? errorText : curl_easy_strerror(rc));
        return response;
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    response.status = int(status);
    return response;
}

} // namespace vivarium::webhookhttp
