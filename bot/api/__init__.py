"""The JSON API for the gas business system (燃气业务管理系统), under /api/."""
