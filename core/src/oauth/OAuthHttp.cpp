// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "OAuthHttp.h"

#include "vivarium/core/CurlEasy.h"

#include <memory>

namespace vivarium::oauth {

namespace {

struct Transfer
{
    HttpReply* reply = nullptr;
    const std::atomic<bool>* cancel = nullptr;
    bool tooLarge = false;
};

size_t onHeader(char* data, size_t size, size_t count, void* user)
{
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    QByteArrayView line(data, qsizetype(n));
    if (line.startsWith("HTTP/")) {
        // A new status line (after 100 Continue): what came before does not count.
        t->reply->contentType.clear();
        return n;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon > 0 &&
        line.first(colon).trimmed().compare("content-type", Qt::CaseInsensitive) == 0) {
        QByteArray value = line.sliced(colon + 1).trimmed().toByteArray().toLower();
        const qsizetype semi = value.indexOf(';');
        t->reply->contentType = (semi >= 0 ? value.left(semi) : value).trimmed();
    }
    return n;
}

size_t onBody(char* data, size_t size, size_t count, void* user)
{
    auto* t = static_cast<Transfer*>(user);
    const size_t n = size * count;
    if (t->reply->body.size() + qsizetype(n) > MaxBodyBytes) {
        t->tooLarge = true;
        return 0; // aborts the transfer
    }
    t->reply->body.append(data, qsizetype(n));
    return n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    auto* t = static_cast<Transfer*>(user);
    return t->cancel && t->cancel->load() ? 1 : 0;
}

HttpReply::Outcome classify(CURLcode code)
{
    switch (code) {
    case CURLE_OK:
        return HttpReply::Outcome::Completed;
    case CURLE_ABORTED_BY_CALLBACK:
        return HttpReply::Outcome::Cancelled;
    case CURLE_OPERATION_TIMEDOUT:
        return HttpReply::Outcome::Timeout;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return HttpReply::Outcome::ConnectFailed;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CONNECT_ERROR:
        return HttpReply::Outcome::TlsFailed;
    default:
        return HttpReply::Outcome::Broken;
    }
}

} // namespace

HttpReply perform(const HttpCall& call)
{
    curl::globalInit();

    HttpReply reply;
    curl::EasyPtr easy(curl_easy_init());
    if (!easy) {
        reply.detail = QStringLiteral("libcurl could not be initialised");
        return reply;
    }
    Transfer t;
    t.reply = &reply;
    t.cancel = call.cancel;

    curl_slist* raw = nullptr;
    for (const QByteArray& h : call.headers)
        raw = curl_slist_append(raw, h.constData());
    raw = curl_slist_append(raw, "Expect:");
    curl::SlistPtr headers(raw);

    char errorBuffer[CURL_ERROR_SIZE] = {};
    const QByteArray url = call.url.toEncoded();
    CURL* e = easy.get();
    curl::applyBaseline(e, {url.constData(), errorBuffer, call.connectTimeoutMs,
                            call.totalTimeoutMs, &onHeader, &onBody, &onProgress, &t});
    if (call.method == "POST") {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, call.body.constData());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(call.body.size()));
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(e, CURLOPT_USERAGENT, "Vivarium/" VIVARIUM_VERSION);

    const CURLcode code = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    reply.status = int(status);
    reply.outcome = t.tooLarge ? HttpReply::Outcome::TooLarge : classify(code);
    if (code != CURLE_OK)
        reply.detail = QString::fromUtf8(errorBuffer[0] ? errorBuffer : curl_easy_strerror(code));
    return reply;
}

QString describeFailure(const HttpReply& reply, const QString& what, const QUrl& url)
{
    const QString where =
        url.adjusted(QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::RemoveUserInfo).toString();
    switch (reply.outcome) {
    case HttpReply::Outcome::Completed:
        return QStringLiteral("%1 at %2 answered HTTP %3").arg(what, where).arg(reply.status);
    case HttpReply::Outcome::ConnectFailed:
        return QStringLiteral("could not reach the %1 at %2 (%3)").arg(what, where, reply.detail);
    case HttpReply::Outcome::Timeout:
        return QStringLiteral("the %1 at %2 did not answer in time (%3)")
            .arg(what, where, reply.detail);
    case HttpReply::Outcome::TlsFailed:
        return QStringLiteral("TLS with the %1 at %2 failed (%3)").arg(what, where, reply.detail);
    case HttpReply::Outcome::Cancelled:
        return QStringLiteral("the request to the %1 at %2 was cancelled").arg(what, where);
    case HttpReply::Outcome::TooLarge:
        return QStringLiteral("the %1 at %2 sent more than %3 bytes")
            .arg(what, where)
            .arg(MaxBodyBytes);
    case HttpReply::Outcome::Broken:
        break;
    }
    return QStringLiteral("the exchange with the %1 at %2 failed (%3)")
        .arg(what, where, reply.detail);
}

} // namespace vivarium::oauth
