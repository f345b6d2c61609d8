// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "CurlTransport.h"

#include "vivarium/sandbox/LlmClient.h"

#include "vivarium/core/CurlEasy.h"

#include <QElapsedTimer>

#include <memory>

namespace vivarium {

namespace {

struct Transfer
{
    const CancelToken* cancel = nullptr;
    const CurlTransport::Sink* sink = nullptr;
    HttpResult* result = nullptr;
    QElapsedTimer lastByte;
    bool sinkStopped = false;
};

void parseHeaderLine(Transfer* t, QByteArrayView line)
{
    while (!line.isEmpty() && (line.back() == '\n' || line.back() == '\r'))
        line.chop(1);
    if (line.startsWith("HTTP/")) {
        // A new status line (after 100 Continue, say): headers start over.
        t->result->head = HttpHead{};
        const QList<QByteArray> parts = line.toByteArray().split(' ');
        if (parts.size() >= 2)
            t->result->head.status = parts.at(1).toInt();
        return;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon > 0) {
        t->result->head.headers.insert(line.first(colon).trimmed().toByteArray().toLower(),
                                       line.sliced(colon + 1).trimmed().toByteArray());
    }
}

size_t onHeader(char* data, size_t size, size_t count, void* user)
{
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    t->lastByte.restart();
    try {
        parseHeaderLine(t, QByteArrayView(data, qsizetype(n)));
    } catch (...) {
        return 0; // nothing may unwind through libcurl; this aborts the transfer
    }
    return n;
}

size_t onBody(char* data, size_t size, size_t count, void* user)
{
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    t->lastByte.restart();
    t->result->bytesReceived += qint64(n);
    ++t->result->bodyReads;
    const int status = t->result->head.status;
    if (status >= 200 && status < 300) {
        bool more = true;
        try {
            // Nothing may unwind through libcurl's C frames (the sink runs the caller's
            // delta callback and allocates).
            more = !*t->sink || (*t->sink)(t->result->head, QByteArrayView(data, qsizetype(n)));
        } catch (...) {
            more = false;
        }
        if (!more) {
            t->sinkStopped = true;
            return 0; // CURLE_WRITE_ERROR
        }
        return n;
    }
    const qsizetype room = CurlTransport::MaxErrorBodyBytes - t->result->errorBody.size();
    if (room > 0)
        t->result->errorBody.append(data, std::min<qsizetype>(room, qsizetype(n)));
    return n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    // Belt and braces: the poll loop below checks too, but this aborts inside long transfers.
    auto* t = static_cast<Transfer*>(user);
    return t->cancel->isCancelled() ? 1 : 0;
}

HttpResult::Outcome classify(CURLcode code, CURL* easy)
{
    switch (code) {
    case CURLE_OK:
        return HttpResult::Outcome::Completed;
    case CURLE_ABORTED_BY_CALLBACK:
        return HttpResult::Outcome::Cancelled;
    case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t connectUs = 0;
        curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connectUs);
        return connectUs > 0 ? HttpResult::Outcome::TotalTimeout
                             : HttpResult::Outcome::ConnectTimeout;
    }
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return HttpResult::Outcome::ConnectFailed;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return HttpResult::Outcome::TlsFailed;
    default:
        return HttpResult::Outcome::Broken;
    }
}

} // namespace

HttpResult CurlTransport::post(const Request& request, const CancelToken& cancel, const Sink& sink)
{
    curl::globalInit();
    HttpResult result;
    Transfer t;
    t.cancel = &cancel;
    t.sink = &sink;
    t.result = &result;

    curl::EasyPtr easy(curl_easy_init());
    // One multi handle per worker thread, kept for the thread's life: its connection cache
    // lets the next model call reuse the TCP (and TLS) connection instead of a new handshake.
    thread_local curl::MultiPtr threadMulti = [] {
        curl::MultiPtr m(curl_multi_init());
        if (m)
            curl_multi_setopt(m.get(), CURLMOPT_MAXCONNECTS, 8L);
        return m;
    }();
    CURLM* const multi = threadMulti.get();
    if (!easy || !multi) {
        result.detail = QStringLiteral("libcurl could not be initialised");
        return result;
    }
    curl_slist* rawList = nullptr;
    for (const QByteArray& h : request.headers)
        rawList = curl_slist_append(rawList, h.constData());
    // No "Expect: 100-continue" round trip for larger bodies.
    rawList = curl_slist_append(rawList, "Expect:");
    curl::SlistPtr headerList(rawList);

    char errorBuffer[CURL_ERROR_SIZE] = {};
    const QByteArray url = request.url.toEncoded();
    CURL* e = easy.get();
    curl::applyBaseline(e, {url.constData(), errorBuffer, request.connectTimeoutMs,
                            request.totalTimeoutMs, &onHeader, &onBody, &onProgress, &t});
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body.constData());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headerList.get());
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);

    curl_multi_add_handle(multi, e);
    t.lastByte.start();
    std::optional<HttpResult::Outcome> ourVerdict;
    int running = 1;
    while (running) {
        if (curl_multi_perform(multi, &running) != CURLM_OK) {
            ourVerdict = HttpResult::Outcome::Broken;
            break;
        }
        if (!running)
            break;
        if (cancel.isCancelled()) {
            ourVerdict = HttpResult::Outcome::Cancelled;
            break;
        }
        if (t.lastByte.elapsed() > request.idleTimeoutMs) {
            ourVerdict = HttpResult::Outcome::IdleTimeout;
            break;
        }
        curl_multi_poll(multi, nullptr, 0, 50, nullptr);
    }

    CURLcode code = CURLE_OK;
    int pending = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &pending)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == e)
            code = msg->data.result;
    }
    curl_multi_remove_handle(multi, e);

    if (ourVerdict) {
        result.outcome = *ourVerdict;
    } else if (cancel.isCancelled()) {
        result.outcome = HttpResult::Outcome::Cancelled;
    } else if (t.sinkStopped) {
        result.outcome = HttpResult::Outcome::SinkStopped;
    } else {
        result.outcome = classify(code, e);
    }
    if (code != CURLE_OK) {
        result.detail = QString::fromUtf8(errorBuffer[0] ? errorBuffer : curl_easy_strerror(code));
    }
    return result;
}

} // namespace vivarium
