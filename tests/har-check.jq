# tests/har-check.jq - is this an HTTP Archive 1.2, and do its timings add up?
#
#   jq -r -f tests/har-check.jq FILE.har     (tests/har-check wraps it)
#
# Prints one line per problem, "PATH: what is wrong", and nothing for a
# good file; a file that is not JSON at all is jq's own error (exit 2).
# Checked against the specification
# (http://www.softwareishard.com/blog/har-12-spec/):
#   - every required field of log, creator, entries, request, response,
#     content, cache, timings, headers, queryString and cookies is there,
#     with its type; optional fields, when present, have theirs; no field
#     the specification does not name unless it starts with "_" (custom);
#   - startedDateTime is ISO 8601 with a time zone;
#   - timings: send, wait and receive >= 0; blocked, dns, connect and ssl
#     >= 0 or -1 (does not apply); ssl not more than connect;
#   - each entry's time is the sum of its timings that are not -1, ssl
#     excluded (it is part of connect): compared in whole thousandths of a
#     millisecond, so exactly for a file whose numbers have 3 decimals.

def fields($o; $spec; $where):
  # $spec: {name: [type, required]}
  ($spec | to_entries[] as $f
   | if ($o | has($f.key)) then
       (if ($o[$f.key] | type) == $f.value[0] then empty
        else "\($where).\($f.key): \($o[$f.key] | type), not \($f.value[0])" end)
     elif $f.value[1] then "\($where): no \($f.key)"
     else empty end),
  ($o | keys[] | select(startswith("_") | not)
   | select(. as $k | $spec | has($k) | not)
   | "\($where).\(.): not a HAR 1.2 field");

def object($o; $spec; $where):
  if ($o | type) != "object" then "\($where): \($o | type), not object"
  else fields($o; $spec; $where) end;

def pairs($a; $where):
  if ($a | type) != "array" then empty
  else $a | to_entries[]
    | object(.value; {name: ["string", true], value: ["string", true],
                      comment: ["string", false]}; "\($where)[\(.key)]")
  end;

def cookies($a; $where):
  if ($a | type) != "array" then empty
  else $a | to_entries[]
    | object(.value; {name: ["string", true], value: ["string", true],
                      path: ["string", false], domain: ["string", false],
                      expires: ["string", false], httpOnly: ["boolean", false],
                      secure: ["boolean", false], comment: ["string", false]};
             "\($where)[\(.key)]")
  end;

def request($r; $w):
  object($r; {method: ["string", true], url: ["string", true],
              httpVersion: ["string", true], cookies: ["array", true],
              headers: ["array", true], queryString: ["array", true],
              postData: ["object", false], headersSize: ["number", true],
              bodySize: ["number", true], comment: ["string", false]}; $w),
  pairs($r.headers?; "\($w).headers"),
  pairs($r.queryString?; "\($w).queryString"),
  cookies($r.cookies?; "\($w).cookies");

def response($r; $w):
  object($r; {status: ["number", true], statusText: ["string", true],
              httpVersion: ["string", true], cookies: ["array", true],
              headers: ["array", true], content: ["object", true],
              redirectURL: ["string", true], headersSize: ["number", true],
              bodySize: ["number", true], comment: ["string", false]}; $w),
  pairs($r.headers?; "\($w).headers"),
  cookies($r.cookies?; "\($w).cookies"),
  (if ($r.content? | type) == "object" then
     object($r.content; {size: ["number", true],
                         compression: ["number", false],
                         mimeType: ["string", true], text: ["string", false],
                         encoding: ["string", false],
                         comment: ["string", false]}; "\($w).content")
   else empty end);

def cache($c; $w):
  object($c; {beforeRequest: ["object", false], afterRequest: ["object", false],
              comment: ["string", false]}; $w);

# Thousandths of a millisecond.
def th: . * 1000 | round;

def timings($e; $w):
  $e.timings as $t
  | object($t; {blocked: ["number", false], dns: ["number", false],
                connect: ["number", false], send: ["number", true],
                wait: ["number", true], receive: ["number", true],
                ssl: ["number", false], comment: ["string", false]}; $w),
    (if ($t | type) != "object" then empty else
       (("send", "wait", "receive") as $k
        | select(($t[$k] | type) == "number" and $t[$k] < 0)
        | "\($w).\($k): \($t[$k]) < 0"),
       (("blocked", "dns", "connect", "ssl") as $k
        | select(($t[$k] | type) == "number" and $t[$k] < 0 and $t[$k] != -1)
        | "\($w).\($k): \($t[$k]) is neither >= 0 nor -1"),
       (select(($t.ssl | type) == "number" and $t.ssl >= 0
               and (($t.connect | type) != "number" or $t.ssl > $t.connect))
        | "\($w).ssl: \($t.ssl) without a connect at least as long"),
       (select(($e.time | type) == "number")
        | ([("blocked", "dns", "connect", "send", "wait", "receive") as $k
            | $t[$k] | select(type == "number" and . != -1) | th] | add)
            as $sum
        | select(($e.time | th) != $sum)
        | "\($w): the timings add up to \($sum / 1000) ms, time is \($e.time)")
     end);

def entry($e; $w):
  object($e; {pageref: ["string", false], startedDateTime: ["string", true],
              time: ["number", true], request: ["object", true],
              response: ["object", true], cache: ["object", true],
              timings: ["object", true], serverIPAddress: ["string", false],
              connection: ["string", false], comment: ["string", false]}; $w),
  (select(($e.startedDateTime | type) == "string")
   | select($e.startedDateTime
       | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$")
       | not)
   | "\($w).startedDateTime: \($e.startedDateTime) is not ISO 8601"),
  (select(($e.time | type) == "number" and $e.time < 0)
   | "\($w).time: \($e.time) < 0"),
  (select(($e.request | type) == "object") | request($e.request; "\($w).request")),
  (select(($e.response | type) == "object") | response($e.response; "\($w).response")),
  (select(($e.cache | type) == "object") | cache($e.cache; "\($w).cache")),
  (select(($e.timings | type) == "object") | timings($e; "\($w).timings"));

if type != "object" then "top: \(type), not object"
else
  object(.; {log: ["object", true]}; "top"),
  (.log | select(type == "object")
   | object(.; {version: ["string", true], creator: ["object", true],
                browser: ["object", false], pages: ["array", false],
                entries: ["array", true], comment: ["string", false]}; "log"),
     (select(.version != "1.2") | "log.version: \(.version), not 1.2"),
     (.creator | select(type == "object")
      | object(.; {name: ["string", true], version: ["string", true],
                   comment: ["string", false]}; "log.creator")),
     (.entries | select(type == "array") | to_entries[]
      | entry(.value; "log.entries[\(.key)]")))
end
