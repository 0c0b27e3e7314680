"""The HTML pages of the fake sign-in providers: consent pages a person (or Chromium in the browser
tests) can use, and error pages.

A consent form posts back to the very URL that showed it (path and query of the authorize
request) with decision=accept or decision=deny, so the request itself carries what is being
consented to. A test without a browser approves by repeating the authorize request as
    POST <authorize URL>   body: decision=accept   (application/x-www-form-urlencoded)
and reads the answer: a 302 to the client's redirect URI, or (OAuth 1.0a, oob) a page with the
verification code in <code id="verifier">.
"""
from html import escape

STYLE = ("body{font-family:sans-serif;max-width:32em;margin:3em auto;line-height:1.4}"
         "button{font-size:1em;padding:.4em 1.2em;margin-right:1em}")


def page(title, body):
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title><style>%s</style>"
            "</head><body><h1>%s</h1>%s</body></html>" % (escape(title), STYLE, escape(title), body))


def error_page(title, message):
    return page(title, "<p id=\"error\">%s</p>" % escape(message))


def consent_page(provider, app, scopes, action, accept="Accept", deny="Cancel", user=None):
    """provider asks whether app may use these scopes; the form posts decision to action."""
    items = "".join("<li>%s</li>" % escape(sc) for sc in scopes)
    who = "<p>Signed in as <b>%s</b>.</p>" % escape(user) if user else ""
    return page("%s: allow access?" % provider,
                "%s<p><b id=\"app\">%s</b> is requesting access to your account:</p><ul id=\"scopes\">%s</ul>"
                "<form method=\"post\" action=\"%s\">"
                "<button type=\"submit\" name=\"decision\" value=\"accept\" id=\"accept\">%s</button>"
                "<button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">%s</button></form>"
                % (who, escape(app), items, escape(action), escape(accept), escape(deny)))
