// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QJsonValue>
#include <QStringList>

namespace vivarium {

/**
 * Validates JSON values against a JSON Schema (the subset tools and output schemas use:
 * type, enum, const, properties, required, additionalProperties, items, prefixItems,
 * min/maxItems, uniqueItems, min/maxLength, pattern, minimum, maximum, exclusiveMinimum,
 * exclusiveMaximum, multipleOf, min/maxProperties, allOf, anyOf, oneOf, not, local $ref to
 * #/$defs or #/definitions). Unknown keywords are ignored, as the specification says.
 * Stateless and thread-safe.
 *
 * Details: boolean schemas (true/false) are accepted anywhere a schema is; "integer" is a
 * number without a fractional part (3.0 is one); numbers compare by value in enum, const and
 * uniqueItems (1 == 1.0); min/maxLength count code points; pattern is an unanchored search.
 * Also understood because older schemas use them: patternProperties, the array form of items
 * with additionalItems, and draft-4 boolean exclusiveMinimum/exclusiveMaximum. $ref may be
 * "#" or any RFC 6901 pointer into the root schema ("#/$defs/a~1b", percent-encoded as in a
 * URI fragment); other keywords beside $ref still apply (2019-09 semantics). A $ref that does
 * not resolve, is not local, or nests more than 64 levels deep (a cycle) is reported as a
 * problem of the instance at that place rather than ignored.
 */
class JsonSchema
{
public:
    /**
     * Problems found, one line each, "/pointer: what was expected, what was found", e.g.
     * `/items/0/name: expected a string, got number 3`, `/: missing required property "path"`,
     * `/extra: property not allowed (additionalProperties is false)`. The pointer is RFC 6901
     * ("/" for the instance itself). A failed anyOf/oneOf reports one line with the first
     * problem of each alternative. Empty when `instance` conforms. At most `maxErrors` lines
     * (at least one, so a failure is never hidden).
     */
    static QStringList validate(const QJsonValue& schema, const QJsonValue& instance,
                                int maxErrors = 20);
};

} // namespace vivarium
