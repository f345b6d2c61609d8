// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "FakeModelServer.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QMutex>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>
#include <QWaitCondition>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#endif

namespace testsupport {

namespace {

enum class Format { OpenAi, Anthropic };

struct Call
{
    QString id;
    QString name;
    QString arguments;
};

/** One turn of the script, with its defaults applied. */
struct Turn
{
    int index = 0;     ///< script position (for generated ids)
    qint64 serial = 0; ///< request number (for response ids)
    QString text;
    QString refusal;
    QList<Call> calls;
    QString stopReason; ///< Anthropic vocabulary
    QString model;
    qint64 inputTokens = 10;
    qint64 outputTokens = 5;
    qint64 cachedTokens = 0;
    int pieceChars = 4;
};

/** What to send on one connection, and how. */
struct Plan
{
    int delayMs = 0;
    QByteArray head;
    QList<QByteArray> pieces;
    bool chunked = false;
    int gapMs = 0;
    enum class End { Close, Reset, Hang } end = End::Close;
    /**
     * End::Close on a persistent connection: finish the response and wait for the next
     * request instead of closing, as the vendors' servers do (HTTP/1.1 keep-alive).
     */
    bool keepAlive = false;
    std::function<void()> done; ///< called when a kept-alive response is complete
    // progress
    bool headWritten = false;
    qsizetype next = 0;
};

QByteArray compact(const QJsonObject& o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 529:
        return "Overloaded";
    default:
        return "Status";
    }
}

/** Pieces of at most `n` UTF-16 units, never splitting a surrogate pair. */
QStringList pieces(const QString& s, int n)
{
    QStringList out;
    n = std::max(1, n);
    for (qsizetype i = 0; i < s.size();) {
        qsizetype len = std::min<qsizetype>(n, s.size() - i);
        if (s.at(i + len - 1).isHighSurrogate() && i + len < s.size())
            ++len;
        out.append(s.mid(i, len));
        i += len;
    }
    return out;
}

QString openAiFinishReason(const QString& stop)
{
    if (stop == QLatin1String("end_turn") || stop == QLatin1String("stop_sequence") ||
        stop == QLatin1String("refusal"))
        return QStringLiteral("stop");
    if (stop == QLatin1String("tool_use"))
        return QStringLiteral("tool_calls");
    if (stop == QLatin1String("max_tokens"))
        return QStringLiteral("length");
    return stop;
}

QString defaultErrorType(Format format, int status)
{
    if (format == Format::Anthropic) {
        switch (status) {
        case 400:
            return QStringLiteral("invalid_request_error");
        case 401:
            return QStringLiteral("authentication_error");
        case 403:
            return QStringLiteral("permission_error");
        case 404:
            return QStringLiteral("not_found_error");
        case 413:
            return QStringLiteral("request_too_large");
        case 429:
            return QStringLiteral("rate_limit_error");
        case 529:
            return QStringLiteral("overloaded_error");
        default:
            return QStringLiteral("api_error");
        }
    }
    if (status == 429)
        return QStringLiteral("requests");
    if (status >= 500)
        return QStringLiteral("server_error");
    return QStringLiteral("invalid_request_error");
}

QByteArray errorBody(Format format, const QString& type, const QString& message)
{
    if (format == Format::Anthropic) {
        return compact(
            {{QStringLiteral("type"), QStringLiteral("error")},
             {QStringLiteral("error"),
              QJsonObject{{QStringLiteral("type"), type}, {QStringLiteral("message"), message}}},
             {QStringLiteral("request_id"), QStringLiteral("req_fake")}});
    }
    return compact(
        {{QStringLiteral("error"), QJsonObject{{QStringLiteral("message"), message},
                                               {QStringLiteral("type"), type},
                                               {QStringLiteral("param"), QJsonValue::Null},
                                               {QStringLiteral("code"), QJsonValue::Null}}}});
}

QByteArray sseData(const QJsonObject& o)
{
    return "data: " + compact(o) + "\n\n";
}

QByteArray sseEvent(const char* name, const QJsonObject& o)
{
    return QByteArray("event: ") + name + "\ndata: " + compact(o) + "\n\n";
}

// --- OpenAI chat completions -------------------------------------------------------------

QJsonObject openAiChunk(const Turn& t, const QJsonObject& delta, const QJsonValue& finish)
{
    return {{QStringLiteral("id"), QStringLiteral("chatcmpl-fake-%1").arg(t.serial)},
            {QStringLiteral("object"), QStringLiteral("chat.completion.chunk")},
            {QStringLiteral("created"), 1700000000},
            {QStringLiteral("model"), t.model},
            {QStringLiteral("system_fingerprint"), QStringLiteral("fp_fake")},
            {QStringLiteral("choices"),
             QJsonArray{QJsonObject{{QStringLiteral("index"), 0},
                                    {QStringLiteral("delta"), delta},
                                    {QStringLiteral("logprobs"), QJsonValue::Null},
                                    {QStringLiteral("finish_reason"), finish}}}}};
}

QJsonObject openAiUsage(const Turn& t)
{
    QJsonObject u{{QStringLiteral("prompt_tokens"), t.inputTokens},
                  {QStringLiteral("completion_tokens"), t.outputTokens},
                  {QStringLiteral("total_tokens"), t.inputTokens + t.outputTokens}};
    if (t.cachedTokens > 0)
        u.insert(QStringLiteral("prompt_tokens_details"),
                 QJsonObject{{QStringLiteral("cached_tokens"), t.cachedTokens}});
    return u;
}

QJsonObject openAiFirstDelta(const Turn& t)
{
    if (!t.refusal.isEmpty())
        return {{QStringLiteral("role"), QStringLiteral("assistant")},
                {QStringLiteral("content"), QJsonValue::Null},
                {QStringLiteral("refusal"), QString()}};
    if (t.text.isEmpty() && !t.calls.isEmpty())
        return {{QStringLiteral("role"), QStringLiteral("assistant")},
                {QStringLiteral("content"), QJsonValue::Null}};
    return {{QStringLiteral("role"), QStringLiteral("assistant")},
            {QStringLiteral("content"), QString()},
            {QStringLiteral("refusal"), QJsonValue::Null}};
}

QList<QByteArray> openAiStream(const Turn& t, bool includeUsage)
{
    QList<QByteArray> events;
    const QJsonValue none = QJsonValue::Null;
    events.append(sseData(openAiChunk(t, openAiFirstDelta(t), none)));
    for (const QString& p : pieces(t.refusal, t.pieceChars))
        events.append(sseData(openAiChunk(t, {{QStringLiteral("refusal"), p}}, none)));
    for (const QString& p : pieces(t.text, t.pieceChars))
        events.append(sseData(openAiChunk(t, {{QStringLiteral("content"), p}}, none)));
    for (int i = 0; i < t.calls.size(); ++i) {
        const Call& c = t.calls.at(i);
        const QJsonObject start{
            {QStringLiteral("index"), i},
            {QStringLiteral("id"), c.id},
            {QStringLiteral("type"), QStringLiteral("function")},
            {QStringLiteral("function"), QJsonObject{{QStringLiteral("name"), c.name},
                                                     {QStringLiteral("arguments"), QString()}}}};
        events.append(
            sseData(openAiChunk(t, {{QStringLiteral("tool_calls"), QJsonArray{start}}}, none)));
        for (const QString& p : pieces(c.arguments, t.pieceChars)) {
            const QJsonObject piece{
                {QStringLiteral("index"), i},
                {QStringLiteral("function"), QJsonObject{{QStringLiteral("arguments"), p}}}};
            events.append(
                sseData(openAiChunk(t, {{QStringLiteral("tool_calls"), QJsonArray{piece}}}, none)));
        }
    }
    events.append(sseData(openAiChunk(t, {}, openAiFinishReason(t.stopReason))));
    if (includeUsage) {
        QJsonObject usageChunk = openAiChunk(t, {}, none);
        usageChunk.insert(QStringLiteral("choices"), QJsonArray{});
        usageChunk.insert(QStringLiteral("usage"), openAiUsage(t));
        events.append(sseData(usageChunk));
    }
    events.append("data: [DONE]\n\n");
    return events;
}

QByteArray openAiCompletion(const Turn& t)
{
    QJsonObject message{
        {QStringLiteral("role"), QStringLiteral("assistant")},
        {QStringLiteral("content"), t.text.isEmpty() ? QJsonValue(QJsonValue::Null) : t.text},
        {QStringLiteral("refusal"),
         t.refusal.isEmpty() ? QJsonValue(QJsonValue::Null) : t.refusal}};
    if (!t.calls.isEmpty()) {
        QJsonArray calls;
        for (const Call& c : t.calls) {
            calls.append(QJsonObject{{QStringLiteral("id"), c.id},
                                     {QStringLiteral("type"), QStringLiteral("function")},
                                     {QStringLiteral("function"),
                                      QJsonObject{{QStringLiteral("name"), c.name},
                                                  {QStringLiteral("arguments"), c.arguments}}}});
        }
        message.insert(QStringLiteral("tool_calls"), calls);
    }
    return compact({{QStringLiteral("id"), QStringLiteral("chatcmpl-fake-%1").arg(t.serial)},
                    {QStringLiteral("object"), QStringLiteral("chat.completion")},
                    {QStringLiteral("created"), 1700000000},
                    {QStringLiteral("model"), t.model},
                    {QStringLiteral("system_fingerprint"), QStringLiteral("fp_fake")},
                    {QStringLiteral("choices"),
                     QJsonArray{QJsonObject{
                         {QStringLiteral("index"), 0},
                         {QStringLiteral("message"), message},
                         {QStringLiteral("logprobs"), QJsonValue::Null},
                         {QStringLiteral("finish_reason"), openAiFinishReason(t.stopReason)}}}},
                    {QStringLiteral("usage"), openAiUsage(t)}});
}

// --- Anthropic Messages ------------------------------------------------------------------

QJsonObject anthropicUsage(const Turn& t, qint64 outputTokens)
{
    return {{QStringLiteral("input_tokens"), t.inputTokens},
            {QStringLiteral("cache_creation_input_tokens"), 0},
            {QStringLiteral("cache_read_input_tokens"), t.cachedTokens},
            {QStringLiteral("output_tokens"), outputTokens}};
}

QString anthropicText(const Turn& t)
{
    return t.refusal.isEmpty() ? t.text : t.text + t.refusal;
}

QJsonObject objectOrEmpty(const QString& json)
{
    const QJsonDocument doc = QJsonDocument::fromJson(json.toUtf8());
    return doc.isObject() ? doc.object() : QJsonObject{};
}

QList<QByteArray> anthropicStreamStart(const Turn& t)
{
    const QJsonObject message{{QStringLiteral("id"), QStringLiteral("msg_fake_%1").arg(t.serial)},
                              {QStringLiteral("type"), QStringLiteral("message")},
                              {QStringLiteral("role"), QStringLiteral("assistant")},
                              {QStringLiteral("model"), t.model},
                              {QStringLiteral("content"), QJsonArray{}},
                              {QStringLiteral("stop_reason"), QJsonValue::Null},
                              {QStringLiteral("stop_sequence"), QJsonValue::Null},
                              {QStringLiteral("usage"), anthropicUsage(t, 1)}};
    return {sseEvent("message_start", {{QStringLiteral("type"), QStringLiteral("message_start")},
                                       {QStringLiteral("message"), message}})};
}

const QByteArray anthropicPing = "event: ping\ndata: {\"type\": \"ping\"}\n\n";

QList<QByteArray> anthropicStream(const Turn& t)
{
    QList<QByteArray> events = anthropicStreamStart(t);
    // Each block: start, deltas, stop. With max_tokens the last block stays open, as the API
    // does when it cuts a tool input off.
    QList<QList<QByteArray>> blocks;
    const QString text = anthropicText(t);
    int index = 0;
    const auto stopEvent = [](int i) {
        return sseEvent("content_block_stop",
                        {{QStringLiteral("type"), QStringLiteral("content_block_stop")},
                         {QStringLiteral("index"), i}});
    };
    if (!text.isEmpty() || t.calls.isEmpty()) {
        QList<QByteArray> b;
        b.append(sseEvent("content_block_start",
                          {{QStringLiteral("type"), QStringLiteral("content_block_start")},
                           {QStringLiteral("index"), index},
                           {QStringLiteral("content_block"),
                            QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                        {QStringLiteral("text"), QString()}}}}));
        for (const QString& p : pieces(text, t.pieceChars)) {
            b.append(sseEvent("content_block_delta",
                              {{QStringLiteral("type"), QStringLiteral("content_block_delta")},
                               {QStringLiteral("index"), index},
                               {QStringLiteral("delta"),
                                QJsonObject{{QStringLiteral("type"), QStringLiteral("text_delta")},
                                            {QStringLiteral("text"), p}}}}));
        }
        b.append(stopEvent(index));
        blocks.append(b);
        ++index;
    }
    for (const Call& c : t.calls) {
        QList<QByteArray> b;
        b.append(sseEvent("content_block_start",
                          {{QStringLiteral("type"), QStringLiteral("content_block_start")},
                           {QStringLiteral("index"), index},
                           {QStringLiteral("content_block"),
                            QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_use")},
                                        {QStringLiteral("id"), c.id},
                                        {QStringLiteral("name"), c.name},
                                        {QStringLiteral("input"), QJsonObject{}}}}}));
        QStringList parts = pieces(c.arguments, t.pieceChars);
        parts.prepend(QString()); // the API opens every tool input with an empty delta
        for (const QString& p : parts) {
            b.append(
                sseEvent("content_block_delta",
                         {{QStringLiteral("type"), QStringLiteral("content_block_delta")},
                          {QStringLiteral("index"), index},
                          {QStringLiteral("delta"),
                           QJsonObject{{QStringLiteral("type"), QStringLiteral("input_json_delta")},
                                       {QStringLiteral("partial_json"), p}}}}));
        }
        b.append(stopEvent(index));
        blocks.append(b);
        ++index;
    }
    if (t.stopReason == QLatin1String("max_tokens") && !blocks.isEmpty())
        blocks.last().removeLast();
    for (qsizetype i = 0; i < blocks.size(); ++i) {
        events.append(blocks.at(i).first());
        if (i == 0)
            events.append(anthropicPing); // where the real API sends its first ping
        events.append(blocks.at(i).mid(1));
    }
    events.append(sseEvent("message_delta",
                           {{QStringLiteral("type"), QStringLiteral("message_delta")},
                            {QStringLiteral("delta"),
                             QJsonObject{{QStringLiteral("stop_reason"), t.stopReason},
                                         {QStringLiteral("stop_sequence"), QJsonValue::Null}}},
                            {QStringLiteral("usage"),
                             QJsonObject{{QStringLiteral("output_tokens"), t.outputTokens}}}}));
    events.append(
        sseEvent("message_stop", {{QStringLiteral("type"), QStringLiteral("message_stop")}}));
    return events;
}

QByteArray anthropicMessage(const Turn& t)
{
    QJsonArray content;
    const QString text = anthropicText(t);
    if (!text.isEmpty())
        content.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("text")},
                                   {QStringLiteral("text"), text}});
    for (const Call& c : t.calls) {
        content.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("tool_use")},
                                   {QStringLiteral("id"), c.id},
                                   {QStringLiteral("name"), c.name},
                                   {QStringLiteral("input"), objectOrEmpty(c.arguments)}});
    }
    return compact({{QStringLiteral("id"), QStringLiteral("msg_fake_%1").arg(t.serial)},
                    {QStringLiteral("type"), QStringLiteral("message")},
                    {QStringLiteral("role"), QStringLiteral("assistant")},
                    {QStringLiteral("model"), t.model},
                    {QStringLiteral("content"), content},
                    {QStringLiteral("stop_reason"), t.stopReason},
                    {QStringLiteral("stop_sequence"), QJsonValue::Null},
                    {QStringLiteral("usage"), anthropicUsage(t, t.outputTokens)}});
}

// --- HTTP --------------------------------------------------------------------------------

QByteArray responseHead(int status, const QByteArray& contentType, qsizetype contentLength,
                        const QList<QPair<QByteArray, QByteArray>>& extra)
{
    QByteArray head = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) +
                      "\r\nContent-Type: " + contentType + "\r\n";
    if (contentLength >= 0)
        head += "Content-Length: " + QByteArray::number(contentLength) + "\r\n";
    else
        head += "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n";
    for (const auto& [name, value] : extra)
        head += name + ": " + value + "\r\n";
    head += "Connection: close\r\n\r\n";
    return head;
}

/** Turn the `Connection: close` of a head into keep-alive. */
void keepConnectionAlive(Plan& p)
{
    p.head.replace("Connection: close\r\n", "Connection: keep-alive\r\n");
    p.keepAlive = true;
}

struct Connection
{
    QByteArray buffer;
    bool headersParsed = false;
    bool handled = false;
    std::weak_ptr<Connection> self;
    qsizetype bodyStart = 0;
    qsizetype contentLength = 0;
    FakeModelServer::Request request;
};

void pump(const QPointer<QTcpSocket>& guarded, const std::shared_ptr<Plan>& plan)
{
    // A raw pointer checked once: GCC cannot see that QPointer stays non-null below.
    QTcpSocket* socket = guarded.data();
    if (socket == nullptr || socket->state() != QAbstractSocket::ConnectedState)
        return;
    if (!plan->headWritten) {
        socket->write(plan->head);
        plan->headWritten = true;
    }
    if (plan->next < plan->pieces.size()) {
        const QByteArray& piece = plan->pieces.at(plan->next++);
        if (plan->chunked)
            socket->write(QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n");
        else
            socket->write(piece);
        socket->flush();
        QTimer::singleShot(plan->gapMs, Qt::PreciseTimer, socket,
                           [guarded, plan] { pump(guarded, plan); });
        return;
    }
    switch (plan->end) {
    case Plan::End::Close:
        if (plan->chunked)
            socket->write("0\r\n\r\n");
        if (plan->keepAlive && plan->done) {
            socket->flush();
            plan->done();
            break;
        }
        socket->disconnectFromHost();
        break;
    case Plan::End::Reset:
        socket->flush();
        // Give the client a moment to read what was sent: a RST can discard unread data.
        QTimer::singleShot(30, socket, [guarded] {
            QTcpSocket* s = guarded.data();
            if (s == nullptr)
                return;
#ifdef Q_OS_UNIX
            const struct linger abortive
            {
                1, 0
            };
            ::setsockopt(int(s->socketDescriptor()), SOL_SOCKET, SO_LINGER, &abortive,
                         sizeof abortive);
#endif
            s->abort();
        });
        break;
    case Plan::End::Hang:
        break;
    }
}

} // namespace

QByteArray FakeModelServer::Request::header(const QByteArray& name) const
{
    for (const auto& [n, v] : headers) {
        if (n.compare(name, Qt::CaseInsensitive) == 0)
            return v;
    }
    return {};
}

bool FakeModelServer::Request::hasHeader(const QByteArray& name) const
{
    for (const auto& [n, v] : headers) {
        if (n.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

struct FakeModelServer::Private
{
    mutable QMutex mutex;
    mutable QWaitCondition requestRecorded;
    QJsonArray script;
    qsizetype next = 0;
    int served = 0;
    int connections = 0;
    qint64 serial = 0;
    bool repeat = false;
    bool byStep = false;
    QString baseDir;
    QList<Request> requests;

    QThread thread;
    QObject* context = nullptr;   // lives in `thread`
    QTcpServer* server = nullptr; // lives in `thread`
    quint16 port = 0;

    void onNewConnection();
    void onReadyRead(QTcpSocket* socket, Connection& conn);
    void respond(QTcpSocket* socket, Request request, const std::shared_ptr<Connection>& conn);
    std::shared_ptr<Plan> plan(const QJsonObject& turnJson, int turnIndex, qint64 serial,
                               Format format, const QJsonObject& body);
    QString resolve(const QString& path) const;
};

void FakeModelServer::Private::onNewConnection()
{
    while (QTcpSocket* socket = server->nextPendingConnection()) {
        {
            QMutexLocker lock(&mutex);
            ++connections;
        }
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        auto conn = std::make_shared<Connection>();
        conn->self = conn;
        QObject::connect(socket, &QTcpSocket::readyRead, socket,
                         [this, socket, conn] { onReadyRead(socket, *conn); });
        QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    }
}

void FakeModelServer::Private::onReadyRead(QTcpSocket* socket, Connection& conn)
{
    conn.buffer += socket->readAll();
    if (conn.handled) {
        // The next request of a kept-alive connection waits until this answer is complete.
        if (conn.buffer.size() > 256 * 1024)
            socket->abort();
        return;
    }
    if (!conn.headersParsed) {
        const qsizetype end = conn.buffer.indexOf("\r\n\r\n");
        if (end < 0) {
            if (conn.buffer.size() > 256 * 1024)
                socket->abort();
            return;
        }
        const QList<QByteArray> lines = conn.buffer.left(end).split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        conn.request.method = requestLine.value(0);
        QByteArray target = requestLine.value(1);
        if (const qsizetype q = target.indexOf('?'); q >= 0)
            target.truncate(q);
        conn.request.path = target;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines.at(i).trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon > 0)
                conn.request.headers.append(
                    {line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
        }
        conn.contentLength = conn.request.header("content-length").toLongLong();
        conn.bodyStart = end + 4;
        conn.headersParsed = true;
        if (conn.request.header("expect").compare("100-continue", Qt::CaseInsensitive) == 0)
            socket->write("HTTP/1.1 100 Continue\r\n\r\n");
    }
    if (conn.buffer.size() - conn.bodyStart < conn.contentLength)
        return;
    conn.handled = true;
    conn.request.body = conn.buffer.mid(conn.bodyStart, conn.contentLength);
    conn.buffer.remove(0, conn.bodyStart + conn.contentLength);
    conn.request.json = QJsonDocument::fromJson(conn.request.body).object();
    respond(socket, conn.request, conn.self.lock());
}

void FakeModelServer::Private::respond(QTcpSocket* socket, Request request,
                                       const std::shared_ptr<Connection>& conn)
{
    std::optional<Format> format;
    if (request.path == "/v1/chat/completions")
        format = Format::OpenAi;
    else if (request.path == "/v1/messages")
        format = Format::Anthropic;

    QJsonObject turn;
    int turnIndex = -1;
    qint64 requestSerial = 0;
    {
        QMutexLocker lock(&mutex);
        requestSerial = ++serial;
        if (format && request.method == "POST") {
            if (byStep && !script.isEmpty()) {
                // Each conversation walks the script on its own: its step is the number of
                // assistant turns it already carries (concurrent runs never steal turns).
                int step = 0;
                for (const QJsonValue& m : request.json.value(QLatin1String("messages")).toArray())
                    if (m.toObject().value(QLatin1String("role")) == QLatin1String("assistant"))
                        ++step;
                turnIndex = repeat ? step % int(script.size())
                                   : std::min<int>(step, int(script.size()) - 1);
            } else if (next < script.size()) {
                turnIndex = int(next++);
            } else if (repeat && !script.isEmpty()) {
                next = 0;
                turnIndex = int(next++);
            }
            turn =
                turnIndex >= 0
                    ? script.at(turnIndex).toObject()
                    : QJsonObject{{QStringLiteral("text"), QStringLiteral("(script exhausted)")}};
            ++served;
        }
        request.turnIndex = turnIndex;
        requests.append(request);
        requestRecorded.wakeAll();
    }

    std::shared_ptr<Plan> p;
    if (!format || request.method != "POST") {
        const int status = format ? 405 : 404;
        p = std::make_shared<Plan>();
        const QByteArray body = errorBody(
            format.value_or(Format::OpenAi),
            defaultErrorType(format.value_or(Format::OpenAi), status),
            QStringLiteral("fake model server: %1 %2")
                .arg(QString::fromLatin1(request.method), QString::fromLatin1(request.path)));
        p->head = responseHead(status, "application/json", body.size(), {});
        p->pieces = {body};
    } else {
        p = plan(turn, turnIndex, requestSerial, *format, request.json);
    }
    if (p->end == Plan::End::Hang && p->head.isEmpty())
        return; // read the request, never answer
    const QPointer<QTcpSocket> guarded(socket);
    // Persistent unless the client or the script says otherwise: an error in the middle of a
    // stream (reset) or a hang ends the connection anyway.
    const bool closeAfterTurn = turn.value(QLatin1String("close")).toBool();
    const bool clientCloses =
        request.header("connection").compare("close", Qt::CaseInsensitive) == 0;
    if (p->end == Plan::End::Close && !clientCloses && !closeAfterTurn && conn) {
        keepConnectionAlive(*p);
        const std::weak_ptr<Connection> weak = conn;
        p->done = [this, guarded, weak] {
            const auto c = weak.lock();
            QTcpSocket* s = guarded.data();
            if (!c || s == nullptr)
                return;
            c->handled = false;
            c->headersParsed = false;
            c->request = Request();
            if (!c->buffer.isEmpty())
                onReadyRead(s, *c);
        };
    }
    QTimer::singleShot(p->delayMs, Qt::PreciseTimer, socket, [guarded, p] { pump(guarded, p); });
}

QString FakeModelServer::Private::resolve(const QString& path) const
{
    if (QFileInfo(path).isAbsolute())
        return path;
    QMutexLocker lock(&mutex);
    return baseDir.isEmpty() ? QDir::current().absoluteFilePath(path)
                             : QDir(baseDir).absoluteFilePath(path);
}

std::shared_ptr<Plan> FakeModelServer::Private::plan(const QJsonObject& j, int turnIndex,
                                                     qint64 requestSerial, Format format,
                                                     const QJsonObject& body)
{
    auto p = std::make_shared<Plan>();
    p->delayMs = j.value(QLatin1String("delay_ms")).toInt(0);
    if (j.value(QLatin1String("hang")).toBool()) {
        p->end = Plan::End::Hang;
        return p;
    }

    Turn t;
    t.index = std::max(0, turnIndex);
    t.serial = requestSerial;
    t.text = j.value(QLatin1String("text")).toString();
    t.refusal = j.value(QLatin1String("refusal")).toString();
    t.model =
        j.value(QLatin1String("model"))
            .toString(body.value(QLatin1String("model")).toString(QStringLiteral("fake-model")));
    t.pieceChars = j.value(QLatin1String("piece_chars")).toInt(4);
    const QJsonObject usage = j.value(QLatin1String("usage")).toObject();
    t.inputTokens = usage.value(QLatin1String("input_tokens")).toInteger(10);
    t.outputTokens = usage.value(QLatin1String("output_tokens")).toInteger(5);
    t.cachedTokens = usage.value(QLatin1String("cached_tokens")).toInteger(0);
    const QJsonArray calls = j.value(QLatin1String("tool_calls")).toArray();
    for (qsizetype i = 0; i < calls.size(); ++i) {
        const QJsonObject c = calls.at(i).toObject();
        Call call;
        call.id = c.value(QLatin1String("id"))
                      .toString((format == Format::Anthropic ? QStringLiteral("toolu_fake_%1_%2")
                                                             : QStringLiteral("call_fake_%1_%2"))
                                    .arg(t.index)
                                    .arg(i));
        call.name = c.value(QLatin1String("name")).toString();
        const QJsonValue args = c.value(QLatin1String("arguments"));
        call.arguments =
            args.isObject() ? QString::fromUtf8(compact(args.toObject())) : args.toString();
        t.calls.append(call);
    }
    t.stopReason = j.value(QLatin1String("stop_reason"))
                       .toString(!t.calls.isEmpty()     ? QStringLiteral("tool_use")
                                 : !t.refusal.isEmpty() ? QStringLiteral("refusal")
                                                        : QStringLiteral("end_turn"));

    const QJsonValue streamOpt = j.value(QLatin1String("stream"));
    const bool stream =
        streamOpt.isBool() ? streamOpt.toBool() : body.value(QLatin1String("stream")).toBool();
    QList<QPair<QByteArray, QByteArray>> extra;
    const QJsonObject headers = j.value(QLatin1String("headers")).toObject();
    for (auto it = headers.begin(); it != headers.end(); ++it)
        extra.append({it.key().toUtf8(), it.value().toVariant().toString().toUtf8()});
    extra.append({format == Format::Anthropic ? "request-id" : "x-request-id",
                  "req_fake_" + QByteArray::number(requestSerial)});

    QList<QByteArray> payload;
    int status = j.value(QLatin1String("status")).toInt(200);
    QByteArray contentType = "application/json";
    bool chunked = false;
    if (status != 200) {
        const QJsonValue ra = j.value(QLatin1String("retry_after"));
        if (ra.isDouble())
            extra.append({"Retry-After", QByteArray::number(ra.toDouble())});
        else if (ra.isString())
            extra.append({"Retry-After", ra.toString().toUtf8()});
        if (j.value(QLatin1String("retry_after_ms")).isDouble())
            extra.append(
                {"retry-after-ms",
                 QByteArray::number(j.value(QLatin1String("retry_after_ms")).toInteger())});
        payload = {errorBody(
            format, j.value(QLatin1String("error_type")).toString(defaultErrorType(format, status)),
            j.value(QLatin1String("error")).toString(QStringLiteral("fake error")))};
    } else if (j.contains(QLatin1String("raw_json_file"))) {
        QFile f(resolve(j.value(QLatin1String("raw_json_file")).toString()));
        if (f.open(QIODevice::ReadOnly)) {
            payload = {f.readAll()};
        } else {
            status = 500;
            payload = {
                errorBody(format, defaultErrorType(format, 500),
                          QStringLiteral("fake model server cannot read %1").arg(f.fileName()))};
        }
    } else if (j.contains(QLatin1String("raw_sse_file"))) {
        QFile f(resolve(j.value(QLatin1String("raw_sse_file")).toString()));
        if (f.open(QIODevice::ReadOnly)) {
            payload = {f.readAll()};
            contentType = "text/event-stream; charset=utf-8";
            chunked = true;
        } else {
            status = 500;
            payload = {
                errorBody(format, defaultErrorType(format, 500),
                          QStringLiteral("fake model server cannot read %1").arg(f.fileName()))};
        }
    } else if (j.contains(QLatin1String("error_event"))) {
        const QString type = j.value(QLatin1String("error_event")).toString();
        const QString message = j.value(QLatin1String("error"))
                                    .toString(type == QLatin1String("overloaded_error")
                                                  ? QStringLiteral("Overloaded")
                                                  : QStringLiteral("fake stream error"));
        contentType = "text/event-stream; charset=utf-8";
        chunked = true;
        if (format == Format::Anthropic) {
            payload = anthropicStreamStart(t);
            payload.append(anthropicPing);
            payload.append(sseEvent(
                "error",
                {{QStringLiteral("type"), QStringLiteral("error")},
                 {QStringLiteral("error"), QJsonObject{{QStringLiteral("type"), type},
                                                       {QStringLiteral("message"), message}}}}));
        } else {
            payload = {sseData(openAiChunk(t, openAiFirstDelta(t), QJsonValue::Null))};
            payload.append("data: " + errorBody(Format::OpenAi, type, message) + "\n\n");
        }
    } else if (stream) {
        contentType = "text/event-stream; charset=utf-8";
        chunked = true;
        const bool includeUsage = body.value(QLatin1String("stream_options"))
                                      .toObject()
                                      .value(QLatin1String("include_usage"))
                                      .toBool();
        payload = format == Format::Anthropic ? anthropicStream(t) : openAiStream(t, includeUsage);
    } else {
        payload = {format == Format::Anthropic ? anthropicMessage(t) : openAiCompletion(t)};
    }

    qsizetype fullLength = 0;
    for (const QByteArray& piece : payload)
        fullLength += piece.size();
    const QJsonValue resetAfter = j.value(QLatin1String("reset_after_bytes"));
    const int chunkBytes = j.value(QLatin1String("chunk_bytes")).toInt(0);
    if (resetAfter.isDouble() || chunkBytes > 0) {
        QByteArray all = payload.join();
        if (resetAfter.isDouble()) {
            all.truncate(resetAfter.toInteger());
            p->end = Plan::End::Reset;
        }
        payload.clear();
        const qsizetype step = chunkBytes > 0 ? chunkBytes : std::max<qsizetype>(1, all.size());
        for (qsizetype i = 0; i < all.size(); i += step)
            payload.append(all.mid(i, step));
    }
    p->pieces = payload;
    p->chunked = chunked;
    p->gapMs = j.value(QLatin1String("chunk_delay_ms")).toInt(chunkBytes > 0 ? 1 : 0);
    // A reset non-streaming answer promised its full length: the client sees it cut short.
    p->head = responseHead(status, contentType, chunked ? -1 : fullLength, extra);
    return p;
}

FakeModelServer::FakeModelServer()
    : d(std::make_unique<Private>())
{}

FakeModelServer::~FakeModelServer()
{
    stop();
}

void FakeModelServer::setScript(const QJsonArray& turns)
{
    QMutexLocker lock(&d->mutex);
    d->script = turns;
    d->next = 0;
}

void FakeModelServer::addTurn(const QJsonObject& turn)
{
    QMutexLocker lock(&d->mutex);
    d->script.append(turn);
}

bool FakeModelServer::loadScriptFile(const QString& path, QString* error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot open %1: %2").arg(path, f.errorString());
        return false;
    }
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
    QJsonArray turns;
    if (doc.isArray()) {
        turns = doc.array();
    } else if (doc.isObject() && doc.object().value(QLatin1String("turns")).isArray()) {
        turns = doc.object().value(QLatin1String("turns")).toArray();
        if (doc.object().value(QLatin1String("repeat")).toBool())
            setRepeat(true);
        if (doc.object().value(QLatin1String("turn_by")).toString() == QLatin1String("step"))
            setTurnByStep(true);
    } else {
        if (error)
            *error =
                QStringLiteral("%1: not a script (a JSON array of turns or {\"turns\": [...]})%2")
                    .arg(path, pe.error != QJsonParseError::NoError
                                   ? QStringLiteral(": ") + pe.errorString()
                                   : QString());
        return false;
    }
    setScript(turns);
    setBaseDir(QFileInfo(path).absolutePath());
    return true;
}

void FakeModelServer::setTurnByStep(bool byStep)
{
    QMutexLocker lock(&d->mutex);
    d->byStep = byStep;
}

void FakeModelServer::setRepeat(bool repeat)
{
    QMutexLocker lock(&d->mutex);
    d->repeat = repeat;
}

void FakeModelServer::setBaseDir(const QString& dir)
{
    QMutexLocker lock(&d->mutex);
    d->baseDir = dir;
}

bool FakeModelServer::start(quint16 port)
{
    if (d->thread.isRunning())
        return true;
    d->context = new QObject;
    d->context->moveToThread(&d->thread);
    d->thread.setObjectName(QStringLiteral("FakeModelServer"));
    d->thread.start();
    bool ok = false;
    QMetaObject::invokeMethod(
        d->context,
        [this, port, &ok] {
            d->server = new QTcpServer(d->context);
            QObject::connect(d->server, &QTcpServer::newConnection, d->server,
                             [this] { d->onNewConnection(); });
            ok = d->server->listen(QHostAddress::LocalHost, port);
            d->port = ok ? d->server->serverPort() : 0;
        },
        Qt::BlockingQueuedConnection);
    if (!ok)
        stop();
    return ok;
}

void FakeModelServer::stop()
{
    if (!d->thread.isRunning())
        return;
    QMetaObject::invokeMethod(
        d->context,
        [this] {
            delete d->server; // and every connection with it
            d->server = nullptr;
        },
        Qt::BlockingQueuedConnection);
    d->thread.quit();
    d->thread.wait();
    delete d->context; // its thread has finished: nothing can be running on it
    d->context = nullptr;
    d->port = 0;
}

quint16 FakeModelServer::port() const
{
    return d->port;
}

QUrl FakeModelServer::openAiBaseUrl() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/v1").arg(d->port));
}

QUrl FakeModelServer::anthropicBaseUrl() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(d->port));
}

QList<FakeModelServer::Request> FakeModelServer::requests() const
{
    QMutexLocker lock(&d->mutex);
    return d->requests;
}

int FakeModelServer::requestCount() const
{
    QMutexLocker lock(&d->mutex);
    return int(d->requests.size());
}

void FakeModelServer::clearRequests()
{
    QMutexLocker lock(&d->mutex);
    d->requests.clear();
}

int FakeModelServer::turnsServed() const
{
    QMutexLocker lock(&d->mutex);
    return d->served;
}

int FakeModelServer::connectionsAccepted() const
{
    QMutexLocker lock(&d->mutex);
    return d->connections;
}

bool FakeModelServer::waitForRequests(int count, int timeoutMs) const
{
    QDeadlineTimer deadline(timeoutMs);
    QMutexLocker lock(&d->mutex);
    while (d->requests.size() < count) {
        if (!d->requestRecorded.wait(&d->mutex, deadline))
            return d->requests.size() >= count;
    }
    return true;
}

} // namespace testsupport
