import Foundation
public import Mustache

/// Mustache templates for email, by name: each is a subject, a plain-text body and optionally an HTML
/// body (files `<name>.subject.mustache`, `<name>.text.mustache`, `<name>.html.mustache` in a folder).
///
/// The subject and text render `{{value}}` as it is; the HTML body escapes it (`{{{value}}}` does not).
/// Four are built in — `welcome`, `password_reset`, `notification`, `campaign` — and a folder may
/// replace them or add more.
public struct EmailTemplates: Sendable {
    private var library: MustacheLibrary
    /// The template names available.
    public private(set) var names: Set<String>
    /// The templates with an HTML body (the library cannot forget one a replacement leaves out).
    private var withHTML: Set<String> = []

    /// The built-in templates only.
    public init() {
        library = MustacheLibrary()
        names = []
        for (name, parts) in Self.builtIn {
            // The built-in texts are fixed and parse; a failure here is a bug caught by the tests.
            try! register(name, subject: parts.subject, text: parts.text, html: parts.html)
        }
    }

    /// The built-in templates, replaced or joined by those in `directory`.
    public init(directory: String) throws(EmailError) {
        self.init()
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw EmailError(.template, "the email template folder \(directory) cannot be read")
        }
        var found: [String: (subject: String?, text: String?, html: String?)] = [:]
        for file in files where file.hasSuffix(".mustache") {
            let parts = file.dropLast(".mustache".count).split(separator: ".")
            guard parts.count == 2, ["subject", "text", "html"].contains(parts[1]) else { continue }
            guard let contents = try? String(contentsOfFile: directory + "/" + file, encoding: .utf8) else {
                throw EmailError(.template, "the email template \(file) cannot be read as UTF-8")
            }
            let name = String(parts[0])
            switch parts[1] {
            case "subject": found[name, default: (nil, nil, nil)].subject = contents.trimmingCharacters(in: .newlines)
            case "text": found[name, default: (nil, nil, nil)].text = contents
            default: found[name, default: (nil, nil, nil)].html = contents
            }
        }
        for (name, parts) in found {
            guard let subject = parts.subject, let text = parts.text else {
                throw EmailError(.template, "the email template \(name) needs \(name).subject.mustache and \(name).text.mustache in \(directory)")
            }
            try register(name, subject: subject, text: text, html: parts.html)
        }
    }

    /// Adds or replaces a template.
    public mutating func register(_ name: String, subject: String, text: String, html: String? = nil) throws(EmailError) {
        do {
            library.register(try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + subject), named: "\(name).subject")
            library.register(try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text), named: "\(name).text")
            if let html {
                library.register(try MustacheTemplate(string: html), named: "\(name).html")
                withHTML.insert(name)
            } else {
                withHTML.remove(name)
            }
        } catch {
            throw EmailError(.template, "the email template \(name) does not parse: \(error)")
        }
        names.insert(name)
    }

    /// The subject, text and HTML of `name` for `data`.
    public func render(_ name: String, data: [String: Any]) throws(EmailError) -> (subject: String, text: String, html: String?) {
        guard names.contains(name), let subject = library.render(data, withTemplate: "\(name).subject"),
              let text = library.render(data, withTemplate: "\(name).text")
        else {
            throw EmailError(.template, "there is no email template named \(name.prefix(100).debugDescription)")
        }
        let html = withHTML.contains(name) ? library.getTemplate(named: "\(name).html").map { $0.render(data, library: library) } : nil
        return (subject.trimmingCharacters(in: .whitespacesAndNewlines), text, html)
    }

    private static let builtIn: [(String, (subject: String, text: String, html: String?))] = [
        ("welcome", (
            subject: "Welcome to {{app_name}}{{#username}}, {{username}}{{/username}}!",
            text: """
                Hello{{#username}} {{username}}{{/username}},

                welcome to {{app_name}}. Your account is ready{{#login_url}}: {{login_url}}{{/login_url}}.

                {{app_name}}

                """,
            html: """
                <!doctype html><html><body>
                <p>Hello{{#username}} {{username}}{{/username}},</p>
                <p>welcome to {{app_name}}. Your account is ready{{#login_url}}: <a href="{{login_url}}">sign in</a>{{/login_url}}.</p>
                <p>{{app_name}}</p>
                </body></html>
                """)),
        ("password_reset", (
            subject: "Reset your {{app_name}} password",
            text: """
                Hello{{#username}} {{username}}{{/username}},

                someone asked to reset the password of your {{app_name}} account. To choose a new one, open
                {{reset_url}}
                {{#expires_in}}The link works for {{expires_in}}.{{/expires_in}} If it was not you, ignore this message.

                {{app_name}}

                """,
            html: """
                <!doctype html><html><body>
                <p>Hello{{#username}} {{username}}{{/username}},</p>
                <p>someone asked to reset the password of your {{app_name}} account.
                <a href="{{reset_url}}">Choose a new password</a>{{#expires_in}} (the link works for {{expires_in}}){{/expires_in}}.</p>
                <p>If it was not you, ignore this message.</p>
                <p>{{app_name}}</p>
                </body></html>
                """)),
        ("notification", (
            subject: "{{#title}}{{title}}{{/title}}{{^title}}A notification from {{app_name}}{{/title}}",
            text: """
                {{message}}
                {{#action_url}}

                {{action_url}}
                {{/action_url}}

                {{app_name}}

                """,
            html: """
                <!doctype html><html><body>
                <p>{{message}}</p>
                {{#action_url}}<p><a href="{{action_url}}">{{#action_text}}{{action_text}}{{/action_text}}{{^action_text}}Open{{/action_text}}</a></p>{{/action_url}}
                <p>{{app_name}}</p>
                </body></html>
                """)),
        ("campaign", (
            subject: "{{subject}}",
            text: """
                {{#name}}Hello {{name}},

                {{/name}}{{text}}
                {{#unsubscribe_url}}

                Unsubscribe: {{unsubscribe_url}}
                {{/unsubscribe_url}}

                """,
            html: """
                <!doctype html><html><body>
                {{#name}}<p>Hello {{name}},</p>{{/name}}
                {{{html}}}
                {{#unsubscribe_url}}<p><a href="{{unsubscribe_url}}">Unsubscribe</a></p>{{/unsubscribe_url}}
                </body></html>
                """)),
    ]
}
