{
    "name": "hello",
    "version": "1.0.0",
    "summary": "The smallest useful addon: a page, a menu entry, a dashboard tile and a command.",
    "depends": [],
}
